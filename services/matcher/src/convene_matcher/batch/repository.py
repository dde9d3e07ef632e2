"""Every SQL statement of routing batches; functions receive a connection."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from convene_common.db import Connection

Row = asyncpg.Record

_CALL_COLUMNS = """id, public_body_id, public_body_name, idempotency_key, request_hash, title,
    description, questions, skills, perspectives, place, languages, access_offered,
    access_not_offered, hours,
    deadline, panel_size, conflicts, confidentiality, status, created_at"""


async def calls_by_id(connection: Connection, *, call_ids: list[uuid.UUID]) -> list[Row]:
    return list(
        await connection.fetch(
            f"SELECT {_CALL_COLUMNS} FROM call WHERE id = ANY($1::uuid[])", call_ids
        )
    )


async def open_calls(
    connection: Connection, *, public_body_id: uuid.UUID, now: datetime, limit: int
) -> list[Row]:
    """The body's open calls whose deadline is ahead, oldest first (first come, first
    listed: the order the sequential baseline routes them in)."""
    return list(
        await connection.fetch(
            f"""SELECT {_CALL_COLUMNS} FROM call
                WHERE public_body_id = $1 AND status = 'open' AND deadline > $2
                ORDER BY created_at, id LIMIT $3""",
            public_body_id,
            now,
            limit,
        )
    )


async def insert_batch(
    connection: Connection,
    *,
    batch: dict[str, Any],
    calls: list[tuple[Any, ...]],
    members: list[tuple[Any, ...]],
) -> Row:
    """calls: (call_id, position, panel_size, score, sequential_score, unmet,
    sequential_unmet); members: (call_id, ref, position, score, fills)."""
    row: Row | None = await connection.fetchrow(
        """
        INSERT INTO routing_batch (id, public_body_id, requested_by, config_id, method, optimal,
            solve_ms, candidates_ms, sequential_ms, total_score, sequential_total_score, seats,
            sequential_seats, unmet, sequential_unmet, cap_violations)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
        RETURNING *
        """,
        batch["id"],
        batch["public_body_id"],
        batch["requested_by"],
        batch["config_id"],
        batch["method"],
        batch["optimal"],
        batch["solve_ms"],
        batch["candidates_ms"],
        batch["sequential_ms"],
        batch["total_score"],
        batch["sequential_total_score"],
        batch["seats"],
        batch["sequential_seats"],
        batch["unmet"],
        batch["sequential_unmet"],
        batch["cap_violations"],
    )
    assert row is not None
    await connection.executemany(
        """INSERT INTO routing_batch_call (batch_id, call_id, position, panel_size, score,
               sequential_score, unmet, sequential_unmet)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        [(batch["id"], *c) for c in calls],
    )
    await connection.executemany(
        """INSERT INTO routing_batch_assignment (batch_id, call_id, ref, position, score, fills)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        [(batch["id"], *m) for m in members],
    )
    return row


async def get_batch(connection: Connection, *, batch_id: uuid.UUID) -> Row | None:
    row: Row | None = await connection.fetchrow(
        "SELECT * FROM routing_batch WHERE id = $1", batch_id
    )
    return row


async def batch_calls(connection: Connection, *, batch_id: uuid.UUID) -> list[Row]:
    return list(
        await connection.fetch(
            """SELECT call_id, panel_size, score, sequential_score, unmet, sequential_unmet
               FROM routing_batch_call WHERE batch_id = $1 ORDER BY position""",
            batch_id,
        )
    )


async def batch_members(connection: Connection, *, batch_id: uuid.UUID) -> list[Row]:
    return list(
        await connection.fetch(
            """SELECT call_id, ref, score, fills FROM routing_batch_assignment
               WHERE batch_id = $1 ORDER BY call_id, position""",
            batch_id,
        )
    )
