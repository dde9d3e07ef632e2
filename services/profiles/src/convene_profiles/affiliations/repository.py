"""Every SQL statement about affiliations and declared interests."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from convene_common.db import Connection

_COLUMNS = "id, citizen_id, organisation, kind, created_at"


async def insert_affiliation(
    connection: Connection, *, affiliation_id: UUID, citizen_id: UUID, organisation: str, kind: str
) -> asyncpg.Record:
    row = await connection.fetchrow(
        f"""INSERT INTO affiliation (id, citizen_id, organisation, kind) VALUES ($1, $2, $3, $4)
            RETURNING {_COLUMNS}""",
        affiliation_id,
        citizen_id,
        organisation,
        kind,
    )
    assert row is not None
    return row


async def delete_affiliation(
    connection: Connection, *, citizen_id: UUID, affiliation_id: UUID
) -> bool:
    result = await connection.execute(
        "DELETE FROM affiliation WHERE id = $1 AND citizen_id = $2", affiliation_id, citizen_id
    )
    return result != "DELETE 0"


async def affiliations_for_citizens(
    connection: Connection, *, citizen_ids: list[UUID]
) -> list[asyncpg.Record]:
    return await connection.fetch(
        f"""SELECT {_COLUMNS} FROM affiliation WHERE citizen_id = ANY($1::uuid[])
            ORDER BY citizen_id, created_at, id""",
        citizen_ids,
    )
