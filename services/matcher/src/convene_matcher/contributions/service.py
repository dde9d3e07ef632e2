"""The rules of contributions.

- Only the citizen of an ACCEPTED invitation submits (409 ``contribution-not-accepted``).
- Answers answer the call's own questions, each at most once (422 naming the answer); a call
  without questions takes a comment alone. At least one answer or a comment.
- Create or replace, and withdraw, while the call is open and before its deadline (409
  ``contribution-deadline-passed``, saying when it closed) and until the body rates it
  (409 ``contribution-rated``: the rating is of the text the body read).
- The body lists its call's contributions of accepted invitations (404 for another body's
  call), under the ref; the gateway adds contact details as it does for invitations.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from convene_common.db import Pool
from convene_matcher.contributions import repository
from convene_matcher.contributions.repository import ContributionRow
from convene_matcher.contributions.schemas import (
    Answer,
    BodyContribution,
    BodyContributionList,
    ContributionRead,
    ContributionWrite,
)
from convene_matcher.errors import NotFoundError
from convene_matcher.invitations import repository as invitations
from convene_matcher.invitations.errors import (
    ContributionClosedError,
    ContributionNotAcceptedError,
    ContributionRatedError,
    InvitationValidationError,
)
from convene_matcher.invitations.repository import InvitationRow
from convene_matcher.invitations.views import now_utc

logger = logging.getLogger("convene.matcher.contributions")


def editable(row: InvitationRow, *, now: datetime) -> bool:
    return row.call_status == "open" and row.deadline > now and row.rating is None


def _check_changeable(row: InvitationRow, *, now: datetime) -> None:
    if row.status != "accepted":
        raise ContributionNotAcceptedError(
            "Only an accepted invitation takes a contribution: accept the invitation first."
        )
    if row.call_status != "open" or row.deadline <= now:
        raise ContributionClosedError(
            "The call closed for contributions at its deadline "
            f"({row.deadline.isoformat()}); your contribution can no longer be submitted, "
            "changed or withdrawn."
        )
    if row.rating is not None:
        raise ContributionRatedError(
            "The body has rated your contribution; it can no longer be changed or withdrawn."
        )


def check_answers(body: ContributionWrite, *, questions: list[str]) -> None:
    asked = {question.strip() for question in questions}
    seen: set[str] = set()
    for index, answer in enumerate(body.answers):
        if answer.question not in asked:
            raise InvitationValidationError(
                f"answers.{index}.question", "is not one of the call's questions"
            )
        if answer.question in seen:
            raise InvitationValidationError(
                f"answers.{index}.question", "is answered twice; give one answer per question"
            )
        seen.add(answer.question)
    if not body.answers and body.comment is None:
        raise InvitationValidationError("answers", "give at least one answer or a comment")


def _read(row: InvitationRow, contribution: ContributionRow, *, now: datetime) -> ContributionRead:
    return ContributionRead(
        invitation_id=row.id,
        call_id=row.call_id,
        answers=[Answer.model_validate(a) for a in contribution.answers],
        comment=contribution.comment,
        submitted_at=contribution.submitted_at,
        updated_at=contribution.updated_at,
        rated=row.rating is not None,
        editable=editable(row, now=now),
    )


async def _invitation(
    connection: invitations.Connection,
    *,
    citizen_id: uuid.UUID,
    invitation_id: uuid.UUID,
    lock: bool = False,
) -> InvitationRow:
    row = await invitations.get_for_citizen(
        connection, invitation_id=invitation_id, citizen_id=citizen_id, lock=lock
    )
    if row is None:
        raise NotFoundError("No such invitation.")
    return row


async def submit(
    *, pool: Pool, citizen_id: uuid.UUID, invitation_id: uuid.UUID, body: ContributionWrite
) -> ContributionRead:
    now = now_utc()
    async with pool.acquire() as connection, connection.transaction():
        row = await _invitation(
            connection, citizen_id=citizen_id, invitation_id=invitation_id, lock=True
        )
        _check_changeable(row, now=now)
        check_answers(body, questions=row.questions)
        saved = await repository.upsert(
            connection,
            invitation_id=invitation_id,
            answers=[answer.model_dump() for answer in body.answers],
            comment=body.comment,
        )
    logger.info("contribution saved", extra={"invitation_id": str(invitation_id)})
    return _read(row, saved, now=now)


async def get(*, pool: Pool, citizen_id: uuid.UUID, invitation_id: uuid.UUID) -> ContributionRead:
    async with pool.acquire() as connection:
        row = await _invitation(connection, citizen_id=citizen_id, invitation_id=invitation_id)
        saved = await repository.get(connection, invitation_id=invitation_id)
    if saved is None:
        raise NotFoundError("You have not submitted a contribution to this call.")
    return _read(row, saved, now=now_utc())


async def withdraw(*, pool: Pool, citizen_id: uuid.UUID, invitation_id: uuid.UUID) -> None:
    now = now_utc()
    async with pool.acquire() as connection, connection.transaction():
        row = await _invitation(
            connection, citizen_id=citizen_id, invitation_id=invitation_id, lock=True
        )
        saved = await repository.get(connection, invitation_id=invitation_id)
        if saved is None:
            raise NotFoundError("You have not submitted a contribution to this call.")
        _check_changeable(row, now=now)
        await repository.delete(connection, invitation_id=invitation_id)
    logger.info("contribution withdrawn", extra={"invitation_id": str(invitation_id)})


async def list_for_call(
    *, pool: Pool, call_id: uuid.UUID, public_body_id: uuid.UUID
) -> BodyContributionList:
    async with pool.acquire() as connection:
        call = await invitations.get_call(
            connection, call_id=call_id, public_body_id=public_body_id
        )
        if call is None:
            raise NotFoundError("No such call.")
        rows = await repository.list_for_call(connection, call_id=call_id)
    return BodyContributionList(
        items=[
            BodyContribution(
                ref=row.ref,
                answers=[Answer.model_validate(a) for a in row.contribution.answers],
                comment=row.contribution.comment,
                submitted_at=row.contribution.submitted_at,
                updated_at=row.contribution.updated_at,
                rating=row.rating,
                contact_citizen_id=row.citizen_id,
            )
            for row in rows
        ]
    )
