"""Every SQL statement about experience entries."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from convene_common.db import Connection

_COLUMNS = (
    "id, citizen_id, kind, title, description, started_on, ended_on, organisation, "
    "visible_to_bodies, created_at, updated_at"
)
UPDATABLE_COLUMNS = frozenset(
    {"kind", "title", "description", "started_on", "ended_on", "organisation", "visible_to_bodies"}
)


async def count_entries(connection: Connection, *, citizen_id: UUID) -> int:
    count = await connection.fetchval(
        "SELECT count(*) FROM experience_entry WHERE citizen_id = $1", citizen_id
    )
    return int(count)


async def insert_entry(
    connection: Connection,
    *,
    entry_id: UUID,
    citizen_id: UUID,
    kind: str,
    title: str,
    description: str,
    started_on: date | None,
    ended_on: date | None,
    organisation: str | None,
    visible_to_bodies: bool = True,
) -> asyncpg.Record:
    row = await connection.fetchrow(
        f"""INSERT INTO experience_entry
              (id, citizen_id, kind, title, description, started_on, ended_on, organisation,
               visible_to_bodies)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {_COLUMNS}""",
        entry_id,
        citizen_id,
        kind,
        title,
        description,
        started_on,
        ended_on,
        organisation,
        visible_to_bodies,
    )
    assert row is not None
    return row


async def get_entry(
    connection: Connection, *, citizen_id: UUID, entry_id: UUID
) -> asyncpg.Record | None:
    return await connection.fetchrow(
        f"SELECT {_COLUMNS} FROM experience_entry WHERE id = $1 AND citizen_id = $2",
        entry_id,
        citizen_id,
    )


async def update_entry(
    connection: Connection, *, citizen_id: UUID, entry_id: UUID, values: dict[str, Any]
) -> asyncpg.Record | None:
    unknown = set(values) - UPDATABLE_COLUMNS
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    assignments = [f"{column} = ${index}" for index, column in enumerate(values, start=3)]
    assignments.append("updated_at = now()")
    return await connection.fetchrow(
        f"""UPDATE experience_entry SET {", ".join(assignments)}
            WHERE id = $1 AND citizen_id = $2 RETURNING {_COLUMNS}""",
        entry_id,
        citizen_id,
        *values.values(),
    )


async def delete_entry(connection: Connection, *, citizen_id: UUID, entry_id: UUID) -> bool:
    result = await connection.execute(
        "DELETE FROM experience_entry WHERE id = $1 AND citizen_id = $2", entry_id, citizen_id
    )
    return result != "DELETE 0"


async def entries_for_citizens(
    connection: Connection, *, citizen_ids: list[UUID]
) -> list[asyncpg.Record]:
    return await connection.fetch(
        f"""SELECT {_COLUMNS} FROM experience_entry WHERE citizen_id = ANY($1::uuid[])
            ORDER BY citizen_id, created_at, id""",
        citizen_ids,
    )
