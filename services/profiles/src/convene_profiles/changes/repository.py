"""Every SQL statement about the change-feed outbox."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from convene_common.db import Connection

_COLUMNS = "seq, citizen_id, kind, occurred_at, snapshot"


async def reserve_seqs(connection: Connection, *, count: int) -> int:
    """Reserves `count` seqs in this transaction; returns the last one.

    The UPDATE locks the counter row until the transaction ends, so outbox writers commit
    one after another, in seq order, and a reader can never see seq N+1 before seq N.
    """
    last: int = await connection.fetchval(
        "UPDATE change_counter SET last_seq = last_seq + $1 RETURNING last_seq", count
    )
    return last


async def insert_changes(
    connection: Connection, *, rows: Sequence[tuple[int, UUID, str, dict[str, Any] | None]]
) -> None:
    await connection.executemany(
        "INSERT INTO change (seq, citizen_id, kind, snapshot) VALUES ($1, $2, $3, $4)", rows
    )


async def list_changes(connection: Connection, *, after: int, limit: int) -> list[asyncpg.Record]:
    return await connection.fetch(
        f"SELECT {_COLUMNS} FROM change WHERE seq > $1 ORDER BY seq LIMIT $2", after, limit
    )


async def head_seq(connection: Connection) -> int:
    head: int = await connection.fetchval("SELECT coalesce(max(seq), 0) FROM change")
    return head


async def blank_snapshots(connection: Connection, *, citizen_id: UUID) -> None:
    await connection.execute(
        "UPDATE change SET snapshot = NULL WHERE citizen_id = $1 AND snapshot IS NOT NULL",
        citizen_id,
    )


async def changes_for_citizen(connection: Connection, *, citizen_id: UUID) -> list[asyncpg.Record]:
    return await connection.fetch(
        f"SELECT {_COLUMNS} FROM change WHERE citizen_id = $1 ORDER BY seq", citizen_id
    )
