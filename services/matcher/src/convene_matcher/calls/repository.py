"""Every SQL statement on ``call``; functions receive a connection."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Row = asyncpg.Record

_COLUMNS = """id, public_body_id, public_body_name, idempotency_key, request_hash, title,
    description, questions, skills, perspectives, place, languages, access_offered, hours,
    deadline, panel_size, conflicts, confidentiality, status, created_at, created_by, updated_at,
    cancelled_at, cancel_reason"""

Connection: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"


async def insert_call(
    connection: Connection, *, call_id: uuid.UUID, values: dict[str, Any]
) -> Row | None:
    """Inserts; None when (public_body_id, idempotency_key) already exists."""
    row: Row | None = await connection.fetchrow(
        f"""
        INSERT INTO call (id, public_body_id, public_body_name, idempotency_key, request_hash,
            title, description, questions, skills, perspectives, place, languages,
            access_offered, hours, deadline, panel_size, conflicts, confidentiality, created_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                $19)
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
) -> list[Row]:
    """Newest first; ``after`` is the (created_at, id) of the previous page's last row."""
    if after is None:
        rows = await connection.fetch(
            f"""SELECT {_COLUMNS} FROM call WHERE public_body_id = $1
                ORDER BY created_at DESC, id DESC LIMIT $2""",
            public_body_id,
            limit,
        )
    else:
        rows = await connection.fetch(
            f"""SELECT {_COLUMNS} FROM call
                WHERE public_body_id = $1 AND (created_at, id) < ($2, $3)
                ORDER BY created_at DESC, id DESC LIMIT $4""",
            public_body_id,
            after[0],
            after[1],
            limit,
        )
    return list(rows)
