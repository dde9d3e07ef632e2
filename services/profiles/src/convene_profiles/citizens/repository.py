"""Every SQL statement about the citizen row and erasure tombstones."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from convene_common.db import Connection

_COLUMNS = (
    "id, email, display_name, bio, place_authority_code, place_postcode_area, place_lat, "
    "place_lon, "
    "languages, access_needs, consent_matching, consent_contact, max_invitations_per_month, "
    "hours_per_month, unavailable, created_at, updated_at, email_verified, "
    "consent_contributions_as_evidence"
)

# Columns a PATCH may set, mapped from internal names to SQL columns.
UPDATABLE_COLUMNS = frozenset(
    {
        "display_name",
        "bio",
        "place_authority_code",
        "place_postcode_area",
        "place_lat",
        "place_lon",
        "languages",
        "access_needs",
        "consent_matching",
        "consent_contact",
        "consent_contributions_as_evidence",
        "max_invitations_per_month",
        "hours_per_month",
        "unavailable",
    }
)


async def insert_citizen(
    connection: Connection,
    *,
    citizen_id: UUID,
    email: str,
    display_name: str,
    email_verified: bool = True,
) -> asyncpg.Record | None:
    """Inserts; None when the id already exists."""
    return await connection.fetchrow(
        f"""INSERT INTO citizen (id, email, display_name, email_verified) VALUES ($1, $2, $3, $4)
            ON CONFLICT (id) DO NOTHING RETURNING {_COLUMNS}""",
        citizen_id,
        email,
        display_name,
        email_verified,
    )


async def set_email_verified(
    connection: Connection, *, citizen_id: UUID, verified: bool, email: str | None
) -> None:
    await connection.execute(
        """UPDATE citizen SET email_verified = $2, email = coalesce($3, email),
               updated_at = now()
           WHERE id = $1""",
        citizen_id,
        verified,
        email,
    )


async def get_citizen(
    connection: Connection, *, citizen_id: UUID, for_update: bool = False
) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await connection.fetchrow(
        f"SELECT {_COLUMNS} FROM citizen WHERE id = $1{lock}", citizen_id
    )


async def citizen_id_for_email(connection: Connection, *, email: str) -> UUID | None:
    found: UUID | None = await connection.fetchval(
        "SELECT id FROM citizen WHERE lower(email) = lower($1)", email
    )
    return found


async def get_citizens(connection: Connection, *, citizen_ids: list[UUID]) -> list[asyncpg.Record]:
    return await connection.fetch(
        f"SELECT {_COLUMNS} FROM citizen WHERE id = ANY($1::uuid[]) ORDER BY id", citizen_ids
    )


async def list_citizen_ids(
    connection: Connection, *, after_id: UUID | None, limit: int
) -> list[UUID]:
    rows = await connection.fetch(
        "SELECT id FROM citizen WHERE ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2",
        after_id,
        limit,
    )
    return [row["id"] for row in rows]


async def update_citizen(
    connection: Connection, *, citizen_id: UUID, values: dict[str, Any]
) -> None:
    unknown = set(values) - UPDATABLE_COLUMNS
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    assignments = [f"{column} = ${index}" for index, column in enumerate(values, start=2)]
    assignments.append("updated_at = now()")
    await connection.execute(
        f"UPDATE citizen SET {', '.join(assignments)} WHERE id = $1",
        citizen_id,
        *values.values(),
    )


async def touch_citizen(connection: Connection, *, citizen_id: UUID) -> None:
    await connection.execute("UPDATE citizen SET updated_at = now() WHERE id = $1", citizen_id)


async def delete_citizen(connection: Connection, *, citizen_id: UUID) -> bool:
    result = await connection.execute("DELETE FROM citizen WHERE id = $1", citizen_id)
    return result != "DELETE 0"


def _hash_sql(parameter: str, column: str) -> str:
    return f"encode(sha256(convert_to({parameter}::text || {column}::text, 'UTF8')), 'hex')"


async def insert_tombstone(connection: Connection, *, citizen_id: UUID, salt: str) -> None:
    await connection.execute(
        f"INSERT INTO erasure_tombstone (id_hash) VALUES ({_hash_sql('$1', '$2::uuid')}) "
        "ON CONFLICT (id_hash) DO NOTHING",
        salt,
        citizen_id,
    )


async def is_tombstoned(connection: Connection, *, citizen_id: UUID, salt: str) -> bool:
    found = await connection.fetchval(
        f"SELECT 1 FROM erasure_tombstone WHERE id_hash = {_hash_sql('$1', '$2::uuid')}",
        salt,
        citizen_id,
    )
    return found is not None


async def tombstoned_citizen_ids(connection: Connection, *, salt: str) -> list[UUID]:
    rows = await connection.fetch(
        f"""SELECT c.id FROM citizen c
            JOIN erasure_tombstone t ON t.id_hash = {_hash_sql("$1", "c.id")}
            ORDER BY c.id""",
        salt,
    )
    return [row["id"] for row in rows]
