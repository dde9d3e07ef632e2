"""Every SQL statement on ``call``; functions receive a connection."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from convene_common.db import Connection

Row = asyncpg.Record

_COLUMNS = """id, public_body_id, public_body_name, idempotency_key, request_hash, title,
    description, questions, skills, perspectives, place, languages, access_offered,
    access_not_offered, hours,
    deadline, panel_size, conflicts, confidentiality, status, created_at, created_by, updated_at,
    cancelled_at, cancel_reason"""


async def insert_call(
    connection: Connection, *, call_id: uuid.UUID, values: dict[str, Any]
) -> Row | None:
    """Inserts; None when (public_body_id, idempotency_key) already exists."""
    row: Row | None = await connection.fetchrow(
        f"""
        INSERT INTO call (id, public_body_id, public_body_name, idempotency_key, request_hash,
            title, description, questions, skills, perspectives, place, languages,
            access_offered, hours, deadline, panel_size, conflicts, confidentiality,
            access_not_offered, created_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
            $19, $20)
        ON CONFLICT ON CONSTRAINT call_idempotency_key_unique DO NOTHING
        RETURNING {_COLUMNS}
        """,
        call_id,
        values["public_body_id"],
        values["public_body_name"],
        values["idempotency_key"],
        values["request_hash"],
        values["title"],
        values["description"],
        values["questions"],
        values["skills"],
        values["perspectives"],
        values["place"],
        values["languages"],
        values["access_offered"],
        values["hours"],
        values["deadline"],
        values["panel_size"],
        values["conflicts"],
        values["confidentiality"],
        values["access_not_offered"],
        values.get("created_by"),
    )
    return row


async def get_by_idempotency_key(
    connection: Connection, *, public_body_id: uuid.UUID, idempotency_key: str
) -> Row | None:
    row: Row | None = await connection.fetchrow(
        f"SELECT {_COLUMNS} FROM call WHERE public_body_id = $1 AND idempotency_key = $2",
        public_body_id,
        idempotency_key,
    )
    return row


async def get_call(
    connection: Connection, *, call_id: uuid.UUID, public_body_id: uuid.UUID
) -> Row | None:
    row: Row | None = await connection.fetchrow(
        f"SELECT {_COLUMNS} FROM call WHERE id = $1 AND public_body_id = $2",
        call_id,
        public_body_id,
    )
    return row


async def list_calls(
    connection: Connection,
    *,
    public_body_id: uuid.UUID,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
    status: str | None = None,
    title_contains: str | None = None,
) -> list[Row]:
    """Newest first; ``after`` is the (created_at, id) of the previous page's last row.
    ``title_contains`` matches case-insensitively (LIKE wildcards in it are literal)."""
    pattern = None
    if title_contains:
        escaped = title_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
    rows = await connection.fetch(
        f"""SELECT {_COLUMNS} FROM call
            WHERE public_body_id = $1
              AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid))
              AND ($4::text IS NULL OR status = $4)
              AND ($5::text IS NULL OR title ILIKE $5)
            ORDER BY created_at DESC, id DESC LIMIT $6""",
        public_body_id,
        after[0] if after else None,
        after[1] if after else None,
        status,
        pattern,
        limit,
    )
    return list(rows)


async def lock_call(
    connection: Connection, *, call_id: uuid.UUID, public_body_id: uuid.UUID
) -> Row | None:
    row: Row | None = await connection.fetchrow(
        f"SELECT {_COLUMNS} FROM call WHERE id = $1 AND public_body_id = $2 FOR UPDATE",
        call_id,
        public_body_id,
    )
    return row


_UPDATABLE = {
    "title": "$%d",
    "description": "$%d",
    "questions": "$%d::jsonb",
    "deadline": "$%d",
    "panel_size": "$%d",
    "perspectives": "$%d::jsonb",
}


async def update_call(connection: Connection, *, call_id: uuid.UUID, values: dict[str, Any]) -> Row:
    assignments, arguments = [], []
    for position, (column, value) in enumerate(values.items(), start=2):
        assignments.append(f"{column} = {_UPDATABLE[column] % position}")
        arguments.append(value)
    row: Row | None = await connection.fetchrow(
        f"""UPDATE call SET {", ".join(assignments)}, updated_at = clock_timestamp()
            WHERE id = $1 RETURNING {_COLUMNS}""",
        call_id,
        *arguments,
    )
    assert row is not None
    return row


async def cancel_call(connection: Connection, *, call_id: uuid.UUID, reason: str) -> Row:
    row: Row | None = await connection.fetchrow(
        f"""UPDATE call SET status = 'cancelled', cancelled_at = clock_timestamp(),
                cancel_reason = $2, updated_at = clock_timestamp()
            WHERE id = $1 RETURNING {_COLUMNS}""",
        call_id,
        reason,
    )
    assert row is not None
    return row


async def invitees(connection: Connection, *, call_id: uuid.UUID) -> list[Row]:
    """Invitations still standing (pending or accepted)."""
    rows = await connection.fetch(
        """SELECT id, citizen_id FROM invitation
           WHERE call_id = $1 AND status IN ('pending', 'accepted') ORDER BY id""",
        call_id,
    )
    return list(rows)


async def withdraw_pending_returning(connection: Connection, *, call_id: uuid.UUID) -> list[Row]:
    rows = await connection.fetch(
        """UPDATE invitation SET status = 'withdrawn'
           WHERE call_id = $1 AND status = 'pending' RETURNING id, citizen_id""",
        call_id,
    )
    return list(rows)


async def get_last_match(
    connection: Connection, *, call_id: uuid.UUID, public_body_id: uuid.UUID
) -> dict[str, Any] | None:
    value: dict[str, Any] | None = await connection.fetchval(
        """SELECT m.result FROM call_last_match m JOIN call c ON c.id = m.call_id
           WHERE m.call_id = $1 AND c.public_body_id = $2""",
        call_id,
        public_body_id,
    )
    return value
