"""What an invitation change tells the outside: citizens' emails and bodies' webhooks.

Both are outbox rows (``notifications.repository``) written in the caller's transaction, so
nothing is sent for a change that did not commit and nothing committed goes unsent. Webhook
payloads carry ids and refs, never personal data.
"""

from __future__ import annotations

import uuid
from typing import Any

from convene_matcher.invitations.repository import Connection, InvitationRow
from convene_matcher.notifications import repository as outbox

EmailRow = tuple[str, outbox.Channel, str, dict[str, Any]]


def email(*, kind: str, citizen_id: str, invitation_id: uuid.UUID, call_id: uuid.UUID) -> EmailRow:
    """One email outbox row (for ``send_emails``)."""
    return (
        kind,
        "email",
        citizen_id,
        {"invitation_id": str(invitation_id), "call_id": str(call_id)},
    )


async def send_emails(connection: Connection, *, rows: list[EmailRow]) -> None:
    await outbox.enqueue_many(connection, rows=rows)


async def webhook(
    connection: Connection,
    *,
    public_body_id: uuid.UUID,
    event: str,
    data: dict[str, Any],
) -> None:
    """Enqueues a webhook event when the body has an endpoint (no personal data in it)."""
    endpoint = await outbox.get_webhook_endpoint(connection, public_body_id=public_body_id)
    if endpoint is None:
        return
    await outbox.enqueue(
        connection,
        kind=event,
        channel="webhook",
        recipient_id=public_body_id,
        payload={"type": event, "data": data},
    )


async def answered(
    connection: Connection, *, row: InvitationRow, status: str, hours: float | None
) -> None:
    await webhook(
        connection,
        public_body_id=row.public_body_id,
        event="invitation.answered",
        data={
            "invitation_id": str(row.id),
            "call_id": str(row.call_id),
            "ref": row.ref,
            "status": status,
            "hours_offered": hours,
        },
    )


async def withdrawn(connection: Connection, *, row: InvitationRow) -> None:
    """The citizen is emailed and the body's webhook told."""
    await outbox.enqueue(
        connection,
        kind="withdrawn",
        channel="email",
        recipient_id=row.citizen_id,
        payload={"invitation_id": str(row.id), "call_id": str(row.call_id)},
    )
    await webhook(
        connection,
        public_body_id=row.public_body_id,
        event="invitation.withdrawn",
        data={"invitation_id": str(row.id), "call_id": str(row.call_id), "ref": row.ref},
    )
