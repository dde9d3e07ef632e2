"""The citizen's answers: accept, decline, undo.

Accept (hours_offered at most the hours asked; default the hours asked; and within the
citizen's ``hours_per_month`` counting their other accepted invitations whose call's deadline
falls in the same month, else 409 ``hours-per-month-exceeded`` saying how many hours are
left to offer), decline (optional
reason; ``not_my_expertise`` stores the evidence shown, see ``exposure.feedback``), undo
(back to pending) -- each only while the call is open and before its deadline. Accepting
twice, answering a declined invitation without undoing, an expired or withdrawn invitation:
409 problems. Undo is refused once the body has rated.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from convene_common.db import Pool
from convene_matcher.citizens.store import CitizenStore
from convene_matcher.contributions import repository as contributions
from convene_matcher.errors import NotFoundError
from convene_matcher.exposure import repository as exposure
from convene_matcher.exposure.capacity import fits
from convene_matcher.exposure.window import month_window
from convene_matcher.invitations import events, repository
from convene_matcher.invitations.errors import (
    AlreadyAnsweredError,
    CallClosedError,
    HoursPerMonthExceededError,
    InvitationExpiredError,
    InvitationValidationError,
    InvitationWithdrawnError,
    NotDeclinedError,
    NothingToUndoError,
    RatingLockedError,
)
from convene_matcher.invitations.repository import InvitationRow
from convene_matcher.invitations.schemas import (
    AcceptRequest,
    CitizenInvitationDetail,
    DeclineRequest,
)
from convene_matcher.invitations.views import citizen_detail, now_utc

logger = logging.getLogger("convene.matcher.invitations")


def _check_answerable(row: InvitationRow, *, now: datetime) -> None:
    if row.status == "withdrawn":
        raise InvitationWithdrawnError(
            "The invitation was withdrawn; it can no longer be answered."
        )
    if row.call_status != "open":
        raise CallClosedError("The call is closed; its invitations can no longer be answered.")
    if row.deadline <= now:
        raise InvitationExpiredError(
            f"The invitation expired at the call's deadline ({row.deadline.isoformat()})."
        )


async def _locked(
    connection: repository.Connection, *, citizen_id: uuid.UUID, invitation_id: uuid.UUID
) -> InvitationRow:
    row = await repository.get_for_citizen(
        connection, invitation_id=invitation_id, citizen_id=citizen_id, lock=True
    )
    if row is None:
        raise NotFoundError("No such invitation.")
    return row


async def _check_hours(
    connection: repository.Connection,
    *,
    store: CitizenStore,
    row: InvitationRow,
    hours: float | None,
) -> None:
    """Raises when ``hours`` more in the month of the call's deadline pass the citizen's
    ``hours_per_month`` (the store's snapshot; an unknown citizen has no stated limit)."""
    record = store.get(str(row.citizen_id))
    limit = record.snapshot.availability.hours_per_month if record is not None else None
    if limit is None or hours is None:
        return
    start, end = month_window(row.deadline)
    taken = await exposure.accepted_hours(
        connection,
        month_start=start,
        month_end=end,
        citizen_ids=[str(row.citizen_id)],
        excluding_invitation=row.id,
    )
    accepted = taken.get(str(row.citizen_id), 0.0)
    if not fits(hours_per_month=limit, accepted_hours=accepted, hours=hours):
        raise HoursPerMonthExceededError(
            hours_per_month=limit, hours_accepted=accepted, hours_wanted=hours
        )


async def accept(
    *,
    pool: Pool,
    store: CitizenStore,
    citizen_id: uuid.UUID,
    invitation_id: uuid.UUID,
    body: AcceptRequest,
) -> CitizenInvitationDetail:
    now = now_utc()
    async with pool.acquire() as connection, connection.transaction():
        # The citizen's lock (the one inviting takes): two accepts cannot both fit the month.
        await repository.lock_citizens(connection, citizen_ids=[str(citizen_id)])
        row = await _locked(connection, citizen_id=citizen_id, invitation_id=invitation_id)
        _check_answerable(row, now=now)
        if row.status == "accepted":
            raise AlreadyAnsweredError("You have already accepted this invitation.")
        if row.status == "declined":
            raise AlreadyAnsweredError("You declined this invitation; undo it first to accept.")
        hours_asked = row.hours_asked
        hours = body.hours_offered
        if hours is not None and hours_asked is not None and hours > hours_asked:
            raise InvitationValidationError(
                "hours_offered", f"must be at most the {hours_asked:g} hours the call asks"
            )
        if hours is None:
            hours = hours_asked
        await _check_hours(connection, store=store, row=row, hours=hours)
        await repository.set_answer(
            connection,
            invitation_id=invitation_id,
            status="accepted",
            hours_offered=hours,
            decline_reason=None,
            answered_at=now,
        )
        await events.answered(connection, row=row, status="accepted", hours=hours)
        updated = await _locked(connection, citizen_id=citizen_id, invitation_id=invitation_id)
        contribution = await contributions.get(connection, invitation_id=invitation_id)
    logger.info("invitation accepted", extra={"invitation_id": str(invitation_id)})
    return citizen_detail(updated, now=now, contribution=contribution)


async def decline(
    *, pool: Pool, citizen_id: uuid.UUID, invitation_id: uuid.UUID, body: DeclineRequest
) -> CitizenInvitationDetail:
    now = now_utc()
    async with pool.acquire() as connection, connection.transaction():
        row = await _locked(connection, citizen_id=citizen_id, invitation_id=invitation_id)
        _check_answerable(row, now=now)
        if row.status in ("accepted", "declined"):
            raise AlreadyAnsweredError(
                f"You have already {row.status} this invitation; undo it first."
            )
        await repository.set_answer(
            connection,
            invitation_id=invitation_id,
            status="declined",
            hours_offered=None,
            decline_reason=body.reason,
            answered_at=now,
        )
        if body.reason == "not_my_expertise":
            texts = sorted({str(e["text"]) for e in row.evidence if e.get("text")})
            await repository.add_feedback(
                connection, invitation_id=invitation_id, citizen_id=citizen_id, texts=texts
            )
        await events.answered(connection, row=row, status="declined", hours=None)
        updated = await _locked(connection, citizen_id=citizen_id, invitation_id=invitation_id)
        contribution = await contributions.get(connection, invitation_id=invitation_id)
    logger.info("invitation declined", extra={"invitation_id": str(invitation_id)})
    return citizen_detail(updated, now=now, contribution=contribution)


async def undo(
    *, pool: Pool, citizen_id: uuid.UUID, invitation_id: uuid.UUID
) -> CitizenInvitationDetail:
    now = now_utc()
    async with pool.acquire() as connection, connection.transaction():
        row = await _locked(connection, citizen_id=citizen_id, invitation_id=invitation_id)
        _check_answerable(row, now=now)
        if row.status not in ("accepted", "declined"):
            raise NothingToUndoError("The invitation has no answer to undo.")
        if row.rating is not None:
            raise RatingLockedError("The body has rated your contribution; it cannot be undone.")
        await repository.set_answer(
            connection,
            invitation_id=invitation_id,
            status="pending",
            hours_offered=None,
            decline_reason=None,
            answered_at=None,
        )
        await repository.remove_feedback(connection, invitation_id=invitation_id)
        await events.answered(connection, row=row, status="pending", hours=None)
        updated = await _locked(connection, citizen_id=citizen_id, invitation_id=invitation_id)
        contribution = await contributions.get(connection, invitation_id=invitation_id)
    logger.info("invitation answer undone", extra={"invitation_id": str(invitation_id)})
    return citizen_detail(updated, now=now, contribution=contribution)


async def follow_outcome(
    *, pool: Pool, citizen_id: uuid.UUID, invitation_id: uuid.UUID
) -> CitizenInvitationDetail:
    """A citizen who declined asks to be told the outcome: emailed at close, shown here."""
    now = now_utc()
    async with pool.acquire() as connection, connection.transaction():
        row = await _locked(connection, citizen_id=citizen_id, invitation_id=invitation_id)
        if row.status != "declined":
            raise NotDeclinedError(
                "Only a citizen who declined asks to be told the outcome; contributors are "
                "told it anyway."
            )
        if row.call_status != "open":
            raise CallClosedError("The call is already closed; its outcome is shown here.")
        await repository.set_follow_outcome(connection, invitation_id=invitation_id)
        updated = await _locked(connection, citizen_id=citizen_id, invitation_id=invitation_id)
    return citizen_detail(updated, now=now)
