"""The matcher's export of a citizen (read in one snapshot transaction)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg

from convene_common.db import Pool
from convene_matcher.privacy import repository
from convene_matcher.privacy.schemas import (
    ExportedContribution,
    ExportedExposure,
    ExportedFeedback,
    ExportedInvitation,
    ExportedMatch,
    ExportedNotification,
    ExportedOutcomeLabel,
    ExportedRating,
    MatcherExport,
)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _invitation(row: asyncpg.Record) -> ExportedInvitation:
    rating = (
        ExportedRating(
            rating=row["rating"], comment=row["rating_comment"], rated_at=row["rated_at"]
        )
        if row["rating"] is not None
        else None
    )
    return ExportedInvitation(
        id=row["id"],
        call_id=row["call_id"],
        call_title=row["call_title"],
        public_body_id=row["public_body_id"],
        public_body_name=row["public_body_name"],
        deadline=row["deadline"],
        status=row["status"],
        message=row["message"],
        hours_asked=row["hours_asked"],
        hours_offered=row["hours_offered"],
        decline_reason=row["decline_reason"],
        invited_at=row["invited_at"],
        answered_at=row["answered_at"],
        reminded_at=row["reminded_at"],
        explanation=_json(row["explanation"]) or {},
        fills=list(row["fills"] or []),
        rating=rating,
        outcome=row["outcome"],
        closed_at=row["closed_at"],
        contribution=(
            ExportedContribution(
                answers=_json(row["contribution_answers"]) or [],
                comment=row["contribution_comment"],
                submitted_at=row["contribution_submitted_at"],
                updated_at=row["contribution_updated_at"],
            )
            if row["contribution_submitted_at"] is not None
            else None
        ),
        cited=_json(row["cited"]) or [],
        follow_outcome=row["follow_outcome"],
    )


async def export_citizen(*, pool: Pool, citizen_id: uuid.UUID) -> MatcherExport:
    async with (
        pool.acquire() as connection,
        connection.transaction(isolation="repeatable_read", readonly=True),
    ):
        invitations = await repository.export_invitations(connection, citizen_id=citizen_id)
        matches = await repository.export_matches(connection, citizen_id=citizen_id)
        exposure = await repository.export_exposure(connection, citizen_id=citizen_id)
        feedback = await repository.export_feedback(connection, citizen_id=citizen_id)
        labels = await repository.export_outcome_labels(connection, citizen_id=citizen_id)
        notifications = await repository.export_notifications(connection, citizen_id=citizen_id)
    return MatcherExport(
        citizen_id=citizen_id,
        invitations=[_invitation(row) for row in invitations],
        matches=[
            ExportedMatch(
                call_id=row["call_id"],
                ref=row["ref"],
                score=row["score"],
                position=row["position"],
                in_panel=row["in_panel"],
                fills=list(row["fills"] or []),
                explanation=_json(row["explanation"]) or {},
                latest=row["latest"],
                matched_at=row["matched_at"],
            )
            for row in matches
        ],
        exposure=[ExportedExposure.model_validate(dict(row)) for row in exposure],
        feedback=[ExportedFeedback.model_validate(dict(row)) for row in feedback],
        outcome_labels=[ExportedOutcomeLabel.model_validate(dict(row)) for row in labels],
        notifications=[
            ExportedNotification.model_validate({**dict(row), "payload": _json(row["payload"])})
            for row in notifications
        ],
    )
