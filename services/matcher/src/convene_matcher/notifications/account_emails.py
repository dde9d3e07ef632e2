"""Account emails with an explicit address (the gateway's verification, reset and staff
invitation messages): queued in the outbox, built and sent by the worker, then forgotten."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from typing import Any

import asyncpg

from convene_matcher.notifications import repository
from convene_matcher.notifications.repository import Connection
from convene_matcher.notifications.schemas import AccountEmailCreate, AccountEmailQueued

# The outbox row's kind; the email's own kind (verify_email, ...) is in account_email.
ACCOUNT_EMAIL = "account_email"


async def enqueue(*, pool: asyncpg.Pool[Any], body: AccountEmailCreate) -> AccountEmailQueued:
    """Idempotent by body.idempotency_key: a retry answers the first delivery id."""
    async with pool.acquire() as connection, connection.transaction():
        existing = await connection.fetchrow(
            """SELECT n.delivery_id FROM account_email a JOIN notification n
                   ON n.id = a.notification_id
               WHERE a.idempotency_key = $1""",
            body.idempotency_key,
        )
        if existing is not None:
            return AccountEmailQueued(delivery_id=existing["delivery_id"])
        delivery_id = await repository.enqueue(
            connection,
            kind=ACCOUNT_EMAIL,
            channel="email",
            recipient_id=body.recipient_id or uuid.uuid4(),
            payload={"email_kind": body.kind},
        )
        await connection.execute(
            """INSERT INTO account_email (notification_id, idempotency_key, email_kind,
                   to_address, subject, text_body, html_body)
               SELECT id, $2, $3, $4, $5, $6, $7 FROM notification WHERE delivery_id = $1
               ON CONFLICT (idempotency_key) DO NOTHING""",
            delivery_id,
            body.idempotency_key,
            body.kind,
            body.to,
            body.subject,
            body.text,
            body.html,
        )
    return AccountEmailQueued(delivery_id=delivery_id)


async def message_for(
    connection: Connection, *, notification_id: int, sender: str, delivery_id: str
) -> EmailMessage | None:
    """The message to send, or None once it was sent (its address and bodies forgotten)."""
    row = await connection.fetchrow(
        """SELECT email_kind, to_address, subject, text_body, html_body
           FROM account_email WHERE notification_id = $1""",
        notification_id,
    )
    if row is None or not row["to_address"]:
        return None
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row["to_address"]
    message["Subject"] = row["subject"]
    message["Message-ID"] = f"<{delivery_id}@convene.notifications>"
    message["X-Convene-Delivery-Id"] = delivery_id
    message["X-Convene-Kind"] = row["email_kind"]
    message.set_content(row["text_body"])
    message.add_alternative(row["html_body"], subtype="html")
    return message


async def forget(connection: Connection, *, notification_id: int) -> None:
    """After the receiver accepted it: the single-use link and the address go."""
    await connection.execute(
        """UPDATE account_email SET to_address = '', text_body = '', html_body = ''
           WHERE notification_id = $1""",
        notification_id,
    )
