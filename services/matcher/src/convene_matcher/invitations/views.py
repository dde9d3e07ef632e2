"""Read models: an invitation as its body and its citizen see it, and the read routes.

- Expiry: a pending invitation whose call's deadline has passed reads as ``expired``.
- Confidentiality (the citizen's view of the call, ``call_summary``): ``public`` shows every
  detail; ``restricted`` shows title, description and questions (the wanted skills once
  accepted); ``confidential`` shows only the title and a note until the citizen accepts.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import cast

from convene_common.cursors import InvalidCursorError, decode_cursor, encode_cursor
from convene_common.db import Pool
from convene_matcher.contributions import repository as contributions
from convene_matcher.contributions.repository import ContributionRow
from convene_matcher.errors import NotFoundError
from convene_matcher.invitations import repository
from convene_matcher.invitations.repository import InvitationRow
from convene_matcher.invitations.schemas import (
    CallSummary,
    CitedAnswer,
    CitizenInvitationDetail,
    CitizenInvitationPage,
    CitizenInvitationRead,
    EvidenceShown,
    InvitationBodyRead,
    InvitationList,
    InvitationStatus,
    WhyYou,
)

CONFIDENTIAL_NOTE = (
    "This call is confidential: its description, questions and the skills it asks for are "
    "shown once you accept. You can undo your answer until the deadline."
)
RESTRICTED_NOTE = "The skills this restricted call asks for are shown once you accept."


def now_utc() -> datetime:
    return datetime.now(UTC)


def effective_status(row: InvitationRow, *, now: datetime) -> InvitationStatus:
    status = cast(InvitationStatus, row.status)
    if status == "pending" and row.deadline <= now:
        return "expired"
    return status


def body_read(row: InvitationRow, *, now: datetime) -> InvitationBodyRead:
    status = effective_status(row, now=now)
    return InvitationBodyRead(
        id=row.id,
        call_id=row.call_id,
        ref=row.ref,
        status=status,
        fills=row.fills,
        explanation=row.explanation,
        message=row.message,
        hours_offered=row.hours_offered,
        invited_at=row.created_at,
        answered_at=row.answered_at,
        rating=row.rating,
        contact_citizen_id=row.citizen_id if status == "accepted" else None,
    )


def citizen_read(row: InvitationRow, *, now: datetime) -> CitizenInvitationRead:
    return CitizenInvitationRead(
        id=row.id,
        call_id=row.call_id,
        status=effective_status(row, now=now),
        call_title=row.call_title,
        public_body_name=row.public_body_name,
        deadline=row.deadline,
        hours_asked=row.hours_asked,
        hours_offered=row.hours_offered,
        decline_reason=row.decline_reason,
        invited_at=row.created_at,
        answered_at=row.answered_at,
    )


def call_summary(row: InvitationRow) -> CallSummary:
    """Tiers, until the citizen accepts: ``public`` shows everything; ``restricted`` title,
    description and questions; ``confidential`` the title and a note (with the body, deadline
    and hours, which the invitation itself states). Accepted: everything."""
    summary = CallSummary(
        id=row.call_id,
        title=row.call_title,
        public_body_name=row.public_body_name,
        confidentiality=row.confidentiality,
        deadline=row.deadline,
        hours=row.hours_asked,
        status=row.call_status,
    )
    tier = row.confidentiality if row.status != "accepted" else "public"
    if tier == "confidential":
        summary.withheld = ["description", "questions", "skills"]
        summary.note = CONFIDENTIAL_NOTE
        return summary
    summary.description = row.description
    summary.questions = list(row.questions)
    if tier == "restricted":
        summary.withheld = ["skills"]
        summary.note = RESTRICTED_NOTE
        return summary
    summary.skills = [skill["label"] for skill in row.skills]
    return summary


def cited_answers(row: InvitationRow, contribution: ContributionRow | None) -> list[CitedAnswer]:
    """The citizen's own answers the outcome cites (by their ref), with their text."""
    if contribution is None:
        return []
    texts = {answer["question"]: answer["text"] for answer in contribution.answers}
    cited: list[CitedAnswer] = []
    for entry in row.cited:
        if entry.get("ref") != row.ref:
            continue
        question = entry.get("question")
        if question is None:
            cited.append(CitedAnswer(question=None, text=contribution.comment))
        elif question in texts:
            cited.append(CitedAnswer(question=question, text=texts[question]))
    return cited


def citizen_detail(
    row: InvitationRow, *, now: datetime, contribution: ContributionRow | None = None
) -> CitizenInvitationDetail:
    base = citizen_read(row, now=now)
    open_call = row.call_status == "open" and row.deadline > now
    return CitizenInvitationDetail(
        **base.model_dump(),
        message=row.message,
        why_you=WhyYou(
            evidence=[EvidenceShown.model_validate(e) for e in row.evidence_for_citizen],
            roles=list(row.explanation.get("roles", [])),
            fills=row.fills,
        ),
        call=call_summary(row),
        outcome=row.outcome,
        can_undo=open_call and base.status in ("accepted", "declined") and row.rating is None,
        cited=cited_answers(row, contribution),
        follow_outcome=row.follow_outcome,
        has_contribution=contribution is not None,
        can_contribute=open_call and base.status == "accepted" and row.rating is None,
    )


# -- read routes ---------------------------------------------------------------------------
async def list_for_call(
    *, pool: Pool, call_id: uuid.UUID, public_body_id: uuid.UUID
) -> InvitationList:
    now = now_utc()
    async with pool.acquire() as connection:
        call = await repository.get_call(connection, call_id=call_id, public_body_id=public_body_id)
        if call is None:
            raise NotFoundError("No such call.")
        rows = await repository.list_for_call(connection, call_id=call_id)
    return InvitationList(items=[body_read(row, now=now) for row in rows])


async def list_for_citizen(
    *, pool: Pool, citizen_id: uuid.UUID, limit: int, cursor: str | None
) -> CitizenInvitationPage:
    after: tuple[datetime, uuid.UUID] | None = None
    if cursor is not None:
        created_at, invitation_id = decode_cursor(cursor, arity=2)
        try:
            after = (datetime.fromisoformat(str(created_at)), uuid.UUID(str(invitation_id)))
        except ValueError as exc:
            raise InvalidCursorError("The cursor is malformed; use next_cursor as given.") from exc
    now = now_utc()
    async with pool.acquire() as connection:
        rows = await repository.list_for_citizen(
            connection, citizen_id=citizen_id, limit=limit + 1, after=after
        )
    items = [citizen_read(row, now=now) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor([last.created_at.isoformat(), str(last.id)])
    return CitizenInvitationPage(items=items, next_cursor=next_cursor)


async def get_for_citizen(
    *, pool: Pool, citizen_id: uuid.UUID, invitation_id: uuid.UUID
) -> CitizenInvitationDetail:
    async with pool.acquire() as connection:
        row = await repository.get_for_citizen(
            connection, invitation_id=invitation_id, citizen_id=citizen_id
        )
        if row is None:
            raise NotFoundError("No such invitation.")
        contribution = await contributions.get(connection, invitation_id=invitation_id)
    return citizen_detail(row, now=now_utc(), contribution=contribution)
