"""Every SQL statement about curated roles and citizens' roles."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from convene_common.db import Connection

_CITIZEN_ROLE_COLUMNS = "id, citizen_id, role_slug, label, visible_to_bodies, created_at"


async def list_roles(connection: Connection) -> list[asyncpg.Record]:
    return await connection.fetch(
        "SELECT slug, label, description FROM stakeholder_role ORDER BY slug"
    )


async def get_role(connection: Connection, *, slug: str) -> asyncpg.Record | None:
    return await connection.fetchrow(
        "SELECT slug, label, description FROM stakeholder_role WHERE slug = $1", slug
    )


async def insert_role(
    connection: Connection, *, slug: str, label: str, description: str
) -> asyncpg.Record | None:
    return await connection.fetchrow(
        """INSERT INTO stakeholder_role (slug, label, description) VALUES ($1, $2, $3)
           ON CONFLICT (slug) DO NOTHING RETURNING slug, label, description""",
        slug,
        label,
        description,
    )


async def insert_citizen_role(
    connection: Connection,
    *,
    citizen_role_id: UUID,
    citizen_id: UUID,
    role_slug: str | None,
    label: str,
    visible_to_bodies: bool = True,
) -> asyncpg.Record:
    row = await connection.fetchrow(
        f"""INSERT INTO citizen_role (id, citizen_id, role_slug, label, visible_to_bodies)
            VALUES ($1, $2, $3, $4, $5) RETURNING {_CITIZEN_ROLE_COLUMNS}""",
        citizen_role_id,
        citizen_id,
        role_slug,
        label,
        visible_to_bodies,
    )
    assert row is not None
    return row


async def delete_citizen_role(
    connection: Connection, *, citizen_id: UUID, citizen_role_id: UUID
) -> bool:
    result = await connection.execute(
        "DELETE FROM citizen_role WHERE id = $1 AND citizen_id = $2", citizen_role_id, citizen_id
    )
    return result != "DELETE 0"


async def roles_for_citizens(
    connection: Connection, *, citizen_ids: list[UUID]
) -> list[asyncpg.Record]:
    return await connection.fetch(
        f"""SELECT {_CITIZEN_ROLE_COLUMNS} FROM citizen_role WHERE citizen_id = ANY($1::uuid[])
            ORDER BY citizen_id, created_at, id""",
        citizen_ids,
    )
