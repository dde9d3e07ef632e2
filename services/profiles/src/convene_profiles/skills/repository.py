"""Every SQL statement about skills."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from convene_common.db import Connection

_COLUMNS = "id, citizen_id, label, level, code, visible_to_bodies, created_at"


async def count_skills(connection: Connection, *, citizen_id: UUID) -> int:
    count: int = await connection.fetchval(
        "SELECT count(*) FROM skill WHERE citizen_id = $1", citizen_id
    )
    return count


async def insert_skill(
    connection: Connection,
    *,
    skill_id: UUID,
    citizen_id: UUID,
    label: str,
    level: str,
    code: str | None,
    visible_to_bodies: bool = True,
) -> asyncpg.Record:
    row = await connection.fetchrow(
        f"""INSERT INTO skill (id, citizen_id, label, level, code, visible_to_bodies)
            VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_COLUMNS}""",
        skill_id,
        citizen_id,
        label,
        level,
        code,
        visible_to_bodies,
    )
    assert row is not None
    return row


async def delete_skill(connection: Connection, *, citizen_id: UUID, skill_id: UUID) -> bool:
    result = await connection.execute(
        "DELETE FROM skill WHERE id = $1 AND citizen_id = $2", skill_id, citizen_id
    )
    return result != "DELETE 0"


async def skills_for_citizens(
    connection: Connection, *, citizen_ids: list[UUID]
) -> list[asyncpg.Record]:
    return await connection.fetch(
        f"""SELECT {_COLUMNS} FROM skill WHERE citizen_id = ANY($1::uuid[])
            ORDER BY citizen_id, created_at, id""",
        citizen_ids,
    )
