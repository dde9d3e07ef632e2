"""The body ends things: withdrawing one invitation, closing the call.

- Withdrawing one invitation: a pending or accepted invitation of the body's open call,
  before its deadline; the citizen is emailed and the body's webhook told. Withdrawing a
  declined, already withdrawn or rated invitation, or after the deadline or closing: 409.
- Closing: the call becomes closed, pending invitations are withdrawn, and every contributor
  (accepted invitation) and every citizen who declined but asked to be told is sent the
  outcome. The outcome may cite contributions ("you said, we did"): each cited ref must have a
  submitted contribution of an accepted invitation, and a cited question must be one it
  answered (422 naming the entry); each contributor then sees which of their answers were
  cited. Closing twice: 409.
"""

from __future__ import annotations

import logging
import uuid

from convene_common.db import Pool
from convene_matcher.contributions import repository as contributions
from convene_matcher.errors import NotFoundError
from convene_matcher.invitations import events, repository
from convene_matcher.invitations.errors import (
    CallClosedError,
    InvitationDeclinedError,
    InvitationExpiredError,
    InvitationValidationError,
    InvitationWithdrawnError,
    RatingLockedError,
)
from convene_matcher.invitations.schemas import (
    Cited,
    CloseRequest,
    CloseResult,
    InvitationBodyRead,
)
from convene_matcher.invitations.views import body_read, now_utc

logger = logging.getLogger("convene.matcher.invitations")


async def withdraw(
    *, pool: Pool, call_id: uuid.UUID, public_body_id: uuid.UUID, invitation_id: uuid.UUID
) -> InvitationBodyRead:
    now = now_utc()
    async with pool.acquire() as connection, connection.transaction():
        call = await repository.lock_call(
            connection, call_id=call_id, public_body_id=public_body_id
        )
        if call is None:
            raise NotFoundError("No such call.")
        row = await repository.get_for_call(
            connection, call_id=call_id, invitation_id=invitation_id, lock=True
        )
        if row is None:
            raise NotFoundError("No such invitation for this call.")
        if row.status == "withdrawn":
            raise InvitationWithdrawnError("The invitation has already been withdrawn.")
        if call.status != "open":
            raise CallClosedError("The call is closed; its invitations can no longer change.")
        if call.deadline <= now:
            raise InvitationExpiredError(
                "The call's deadline has passed; its invitations can no longer be withdrawn."
            )
        if row.status == "declined":
            raise InvitationDeclinedError(
                "The citizen declined this invitation; there is nothing to withdraw."
            )
        if row.rating is not None:
            raise RatingLockedError(
                "You have rated this contribution; the invitation can no longer be withdrawn."
            )
        await repository.withdraw(connection, invitation_id=invitation_id)
        await events.withdrawn(connection, row=row)
        updated = await repository.get_for_call(
            connection, call_id=call_id, invitation_id=invitation_id
        )
    assert updated is not None
    logger.info(
        "invitation withdrawn", extra={"invitation_id": str(invitation_id), "was": row.status}
    )
    return body_read(updated, now=now)


async def close(
    *, pool: Pool, call_id: uuid.UUID, public_body_id: uuid.UUID, body: CloseRequest
) -> CloseResult:
    async with pool.acquire() as connection, connection.transaction():
        call = await repository.lock_call(
            connection, call_id=call_id, public_body_id=public_body_id
        )
        if call is None:
            raise NotFoundError("No such call.")
        if call.status == "closed":
            raise CallClosedError("The call is already closed; its outcome was sent.")
        await _check_cited(connection, call_id=call_id, cited=body.cited)
        closed = await repository.close_call(
            connection,
            call_id=call_id,
            outcome=body.outcome,
            cited=[entry.model_dump() for entry in body.cited],
        )
        withdrawn = await repository.withdraw_pending(connection, call_id=call_id)
        contributors = await repository.accepted_citizens(connection, call_id=call_id)
        followers = await repository.outcome_followers(connection, call_id=call_id)
        await events.send_emails(
            connection,
            rows=[
                events.email(
                    kind="outcome",
                    citizen_id=row["citizen_id"],
                    invitation_id=row["id"],
                    call_id=call_id,
                )
                for row in [*contributors, *followers]
            ],
        )
        await events.webhook(
            connection,
            public_body_id=public_body_id,
            event="call.closed",
            data={
                "call_id": str(call_id),
                "contributors": len(contributors),
                "withdrawn": withdrawn,
            },
        )
    logger.info(
        "call closed",
        extra={"call_id": str(call_id), "notified": len(contributors), "withdrawn": withdrawn},
    )
    return CloseResult(
        call_id=call_id,
        outcome=closed["outcome"],
        closed_at=closed["closed_at"],
        notified=len(contributors) + len(followers),
        withdrawn=withdrawn,
        cited=body.cited,
    )


async def _check_cited(
    connection: repository.Connection, *, call_id: uuid.UUID, cited: list[Cited]
) -> None:
    if not cited:
        return
    submitted = {
        row.ref: {answer["question"] for answer in row.contribution.answers}
        for row in await contributions.list_for_call(connection, call_id=call_id)
    }
    for index, entry in enumerate(cited):
        answered = submitted.get(entry.ref)
        if answered is None:
            raise InvitationValidationError(
                f"cited.{index}.ref", "has no submitted contribution to this call"
            )
        if entry.question is not None and entry.question not in answered:
            raise InvitationValidationError(
                f"cited.{index}.question", "is not a question this contribution answers"
            )
