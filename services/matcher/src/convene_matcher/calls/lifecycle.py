"""Changing an open call, cancelling it, and its last match (kept to be read again)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg

from convene_matcher.calls import repository
from convene_matcher.calls.errors import CallValidationError
from convene_matcher.calls.schemas import CallCancelled, CallCreate, CallRead, CallUpdate
from convene_matcher.calls.service import RoleLookup, to_read, validate_call
from convene_matcher.errors import ConflictError, NotFoundError
from convene_matcher.notifications import repository as outbox
from convene_matcher.routing.schemas import MatchResult


class CallNotOpenError(ConflictError):
    slug = "call-not-open"


async def update_call(
    *,
    pool: asyncpg.Pool[Any],
    call_id: uuid.UUID,
    public_body_id: uuid.UUID,
    changes: CallUpdate,
    roles: RoleLookup,
) -> CallRead:
    """Validated like a new call; invitees (pending or accepted) are told of a new deadline."""
    values = changes.model_dump(exclude_unset=True, exclude_none=True)
    async with pool.acquire() as connection, connection.transaction():
        row = await repository.lock_call(connection, call_id=call_id, public_body_id=public_body_id)
        if row is None:
            raise NotFoundError("No such call.")
        if row["status"] != "open":
            raise CallNotOpenError("Only an open call can be changed.")
        current = to_read(row)
        merged = CallCreate.model_validate(
            {
                **current.model_dump(
                    mode="json",
                    exclude={
                        "id",
                        "status",
                        "created_at",
                        "updated_at",
                        "cancelled_at",
                        "cancel_reason",
                    },
                ),
                **changes.model_dump(mode="json", exclude_unset=True, exclude_none=True),
            }
        )
        validate_call(merged, roles=roles, now=datetime.now(UTC))
        invitees = await repository.invitees(connection, call_id=call_id)
        new_deadline = changes.deadline
        if new_deadline is not None and invitees and new_deadline < current.deadline:
            raise CallValidationError(
                "deadline", "invitations exist: the deadline may only move later"
            )
        if values:
            # JSON-ready values (the pool's codec encodes questions and perspectives).
            stored = changes.model_dump(mode="json", exclude_unset=True, exclude_none=True)
            if "deadline" in stored:
                stored["deadline"] = new_deadline
            row = await repository.update_call(connection, call_id=call_id, values=stored)
        if new_deadline is not None and new_deadline != current.deadline and invitees:
            await outbox.enqueue_many(
                connection,
                rows=[
                    (
                        "deadline_changed",
                        "email",
                        str(invitee["citizen_id"]),
                        {"invitation_id": str(invitee["id"]), "call_id": str(call_id)},
                    )
                    for invitee in invitees
                ],
            )
    return to_read(row)


async def cancel_call(
    *, pool: asyncpg.Pool[Any], call_id: uuid.UUID, public_body_id: uuid.UUID, reason: str
) -> CallCancelled:
    """Pending invitations are withdrawn and their invitees told; no outcome is needed."""
    async with pool.acquire() as connection, connection.transaction():
        row = await repository.lock_call(connection, call_id=call_id, public_body_id=public_body_id)
        if row is None:
            raise NotFoundError("No such call.")
        if row["status"] != "open":
            raise CallNotOpenError("Only an open call can be cancelled.")
        cancelled = await repository.cancel_call(connection, call_id=call_id, reason=reason)
        withdrawn = await repository.withdraw_pending_returning(connection, call_id=call_id)
        await outbox.enqueue_many(
            connection,
            rows=[
                (
                    "withdrawn",
                    "email",
                    str(invitation["citizen_id"]),
                    {"invitation_id": str(invitation["id"]), "call_id": str(call_id)},
                )
                for invitation in withdrawn
            ],
        )
    return CallCancelled(**to_read(cancelled).model_dump(), withdrawn=len(withdrawn))


async def last_match(
    *, pool: asyncpg.Pool[Any], call_id: uuid.UUID, public_body_id: uuid.UUID
) -> MatchResult:
    async with pool.acquire() as connection:
        stored = await repository.get_last_match(
            connection, call_id=call_id, public_body_id=public_body_id
        )
    if stored is None:
        raise NotFoundError("No such call, or it has not been matched yet.")
    return MatchResult.model_validate(stored)
