"""Every SQL statement on notification, notification_delivery and webhook_endpoint."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

import asyncpg

# Re-exported: services annotate with repository.Connection.
from convene_common.db import Connection as Connection

Channel = Literal["email", "webhook"]

_COLUMNS = """id, kind, channel, recipient_id, payload, status, attempts, next_attempt_at,
    delivery_id, last_error, created_at, sent_at"""


async def enqueue(
    connection: Connection,
    *,
    kind: str,
    channel: Channel,
    recipient_id: uuid.UUID | str,
    payload: dict[str, Any],
) -> uuid.UUID:
    """One outbox row, in the caller's transaction; returns its delivery id."""
    delivery_id = uuid.uuid4()
    await connection.execute(
        """INSERT INTO notification (kind, channel, recipient_id, payload, delivery_id)
           VALUES ($1, $2, $3::uuid, $4::jsonb, $5)""",
        kind,
        channel,
        str(recipient_id),
        payload,
        delivery_id,
    )
    return delivery_id


async def enqueue_many(
    connection: Connection,
    *,
    rows: list[tuple[str, Channel, str, dict[str, Any]]],
) -> None:
    """rows: (kind, channel, recipient_id, payload)."""
    if not rows:
        return
    await connection.executemany(
        """INSERT INTO notification (kind, channel, recipient_id, payload, delivery_id)
           VALUES ($1, $2, $3::uuid, $4::jsonb, $5)""",
        [(kind, channel, rid, payload, uuid.uuid4()) for kind, channel, rid, payload in rows],
    )


async def claim_due(connection: Connection, *, now: datetime) -> asyncpg.Record | None:
    """Locks one due row for the caller's transaction (other senders skip it)."""
    row: asyncpg.Record | None = await connection.fetchrow(
        f"""SELECT {_COLUMNS} FROM notification
            WHERE status = 'pending' AND next_attempt_at <= $1
            ORDER BY next_attempt_at, id
            LIMIT 1
            FOR UPDATE SKIP LOCKED""",
        now,
    )
    return row


async def mark_sent(connection: Connection, *, notification_id: int, attempt: int) -> None:
    await connection.execute(
        """UPDATE notification SET status = 'sent', attempts = $2, sent_at = clock_timestamp(),
               last_error = NULL
           WHERE id = $1""",
        notification_id,
        attempt,
    )
    await log_delivery(connection, notification_id=notification_id, attempt=attempt, outcome="sent")


async def mark_dropped(
    connection: Connection, *, notification_id: int, attempt: int, reason: str
) -> None:
    await connection.execute(
        "UPDATE notification SET status = 'dropped', attempts = $2, last_error = $3 WHERE id = $1",
        notification_id,
        attempt,
        reason,
    )
    await log_delivery(
        connection,
        notification_id=notification_id,
        attempt=attempt,
        outcome="dropped",
        detail=reason,
    )


async def mark_failed(
    connection: Connection,
    *,
    notification_id: int,
    attempt: int,
    error: str,
    retry_at: datetime | None,
) -> None:
    """retry_at None: dead letter."""
    if retry_at is None:
        await connection.execute(
            """UPDATE notification SET status = 'dead', attempts = $2, last_error = $3
               WHERE id = $1""",
            notification_id,
            attempt,
            error,
        )
    else:
        await connection.execute(
            """UPDATE notification SET attempts = $2, last_error = $3, next_attempt_at = $4
               WHERE id = $1""",
            notification_id,
            attempt,
            error,
            retry_at,
        )
    await log_delivery(
        connection,
        notification_id=notification_id,
        attempt=attempt,
        outcome="dead" if retry_at is None else "failed",
        detail=error,
    )


async def log_delivery(
    connection: Connection,
    *,
    notification_id: int,
    attempt: int,
    outcome: str,
    detail: str | None = None,
) -> None:
    await connection.execute(
        """INSERT INTO notification_delivery (notification_id, attempt, outcome, detail)
           VALUES ($1, $2, $3, $4)""",
        notification_id,
        attempt,
        outcome,
        detail,
    )


async def list_dead(
    connection: Connection, *, limit: int, before_id: int | None
) -> list[asyncpg.Record]:
    rows = await connection.fetch(
        f"""SELECT {_COLUMNS} FROM notification
            WHERE status = 'dead' AND ($2::bigint IS NULL OR id < $2)
            ORDER BY id DESC LIMIT $1""",
        limit,
        before_id,
    )
    return list(rows)


async def deliveries_of(connection: Connection, *, notification_id: int) -> list[asyncpg.Record]:
    rows = await connection.fetch(
        """SELECT attempt, outcome, detail, at FROM notification_delivery
           WHERE notification_id = $1 ORDER BY id""",
        notification_id,
    )
    return list(rows)


# -- webhook endpoints -------------------------------------------------------------------
async def get_webhook_endpoint(
    connection: Connection, *, public_body_id: uuid.UUID | str
) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await connection.fetchrow(
        """SELECT public_body_id, url, secret, created_at, updated_at FROM webhook_endpoint
           WHERE public_body_id = $1::uuid""",
        str(public_body_id),
    )
    return row


async def upsert_webhook_endpoint(
    connection: Connection, *, public_body_id: uuid.UUID, url: str, new_secret: str
) -> tuple[asyncpg.Record, bool]:
    """Sets the URL; the secret is made on first set only. Returns (row, created)."""
    row = await connection.fetchrow(
        """INSERT INTO webhook_endpoint (public_body_id, url, secret) VALUES ($1, $2, $3)
           ON CONFLICT ON CONSTRAINT webhook_endpoint_pkey DO UPDATE
               SET url = EXCLUDED.url, updated_at = clock_timestamp()
           RETURNING public_body_id, url, secret, created_at, updated_at,
                     (xmax = 0) AS created""",
        public_body_id,
        url,
        new_secret,
    )
    assert row is not None
    return row, bool(row["created"])


async def message_context(connection: Connection, *, invitation_id: str) -> asyncpg.Record | None:
    """What an email about an invitation says (no personal data: ids, the call, the answer)."""
    row: asyncpg.Record | None = await connection.fetchrow(
        """SELECT i.id, i.status, i.message, i.hours_offered, c.id AS call_id, c.title,
                  c.public_body_name, c.deadline, c.hours, c.confidentiality,
                  c.status AS call_status,
                  o.outcome
           FROM invitation i JOIN call c ON c.id = i.call_id
           LEFT JOIN call_outcome o ON o.call_id = i.call_id
           WHERE i.id = $1::uuid""",
        invitation_id,
    )
    return row


async def invitation_email_dropped(connection: Connection, *, invitation_id: str) -> bool:
    """True when the invitation's own email was dropped unsent (e.g. withdrawn first)."""
    found = await connection.fetchval(
        """SELECT 1 FROM notification
           WHERE kind = 'invitation' AND channel = 'email' AND status = 'dropped'
             AND payload ->> 'invitation_id' = $1""",
        invitation_id,
    )
    return found is not None
