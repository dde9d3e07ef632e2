"""Every SQL statement about badges and the trusted-issuer registry."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from convene_common.db import Connection

_COLUMNS = (
    "id, citizen_id, format, name, description, criteria, issuer_id, issuer_name, "
    "raw_credential, verified, verification, checked_at, issued_on, expires_at, created_at"
)
_ISSUER_COLUMNS = "id, name, public_key_jwk, revoked_credential_ids, created_at"


async def insert_badge(
    connection: Connection,
    *,
    badge_id: UUID,
    citizen_id: UUID,
    format: str,
    name: str,
    description: str,
    criteria: str | None,
    issuer_id: str | None,
    issuer_name: str | None,
    raw_credential: Any,
    verified: bool,
    verification: dict[str, Any],
    checked_at: datetime,
    issued_on: datetime | None,
    expires_at: datetime | None,
) -> asyncpg.Record:
    row = await connection.fetchrow(
        f"""INSERT INTO badge (id, citizen_id, format, name, description, criteria, issuer_id,
                issuer_name, raw_credential, verified, verification, checked_at, issued_on,
                expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
            RETURNING {_COLUMNS}""",
        badge_id,
        citizen_id,
        format,
        name,
        description,
        criteria,
        issuer_id,
        issuer_name,
        raw_credential,
        verified,
        verification,
        checked_at,
        issued_on,
        expires_at,
    )
    assert row is not None
    return row


async def delete_badge(connection: Connection, *, citizen_id: UUID, badge_id: UUID) -> bool:
    result = await connection.execute(
        "DELETE FROM badge WHERE id = $1 AND citizen_id = $2", badge_id, citizen_id
    )
    return result != "DELETE 0"


async def badges_for_citizens(
    connection: Connection, *, citizen_ids: list[UUID]
) -> list[asyncpg.Record]:
    return await connection.fetch(
        f"""SELECT {_COLUMNS} FROM badge WHERE citizen_id = ANY($1::uuid[])
            ORDER BY citizen_id, created_at, id""",
        citizen_ids,
    )


async def get_issuer(connection: Connection, *, issuer_id: str) -> asyncpg.Record | None:
    return await connection.fetchrow(
        f"SELECT {_ISSUER_COLUMNS} FROM badge_issuer WHERE id = $1", issuer_id
    )


async def insert_issuer(
    connection: Connection,
    *,
    issuer_id: str,
    name: str,
    public_key_jwk: dict[str, Any] | None,
    revoked_credential_ids: list[str],
) -> asyncpg.Record | None:
    return await connection.fetchrow(
        f"""INSERT INTO badge_issuer (id, name, public_key_jwk, revoked_credential_ids)
            VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING RETURNING {_ISSUER_COLUMNS}""",
        issuer_id,
        name,
        public_key_jwk,
        revoked_credential_ids,
    )


async def list_issuers(
    connection: Connection, *, after_id: str | None, limit: int
) -> list[asyncpg.Record]:
    return await connection.fetch(
        f"""SELECT {_ISSUER_COLUMNS} FROM badge_issuer WHERE ($1::text IS NULL OR id > $1)
            ORDER BY id LIMIT $2""",
        after_id,
        limit,
    )


async def badges_due_for_recheck(
    connection: Connection, *, checked_before: datetime, limit: int
) -> list[asyncpg.Record]:
    """Verified, not revoked badges whose revocation was last confirmed before the cut-off,
    oldest first, with their citizen's email (the recipient check needs it)."""
    return await connection.fetch(
        """SELECT b.id, b.citizen_id, b.format, b.raw_credential, b.verification, c.email
            FROM badge b JOIN citizen c ON c.id = b.citizen_id
            WHERE b.verified AND b.revoked_at IS NULL AND b.last_checked_at < $1
            ORDER BY b.last_checked_at, b.id LIMIT $2""",
        checked_before,
        limit,
    )


async def mark_rechecked(connection: Connection, *, badge_ids: list[UUID], at: datetime) -> None:
    await connection.execute(
        "UPDATE badge SET last_checked_at = $2 WHERE id = ANY($1::uuid[])", badge_ids, at
    )


async def revoke_badge(
    connection: Connection,
    *,
    citizen_id: UUID,
    badge_id: UUID,
    verification: dict[str, Any],
    at: datetime,
) -> bool:
    """Marks a still-verified badge revoked and unverified; False when it no longer is one."""
    result = await connection.execute(
        """UPDATE badge SET verified = false, revoked_at = $3, last_checked_at = $3,
                verification = $4
            WHERE id = $1 AND citizen_id = $2 AND verified AND revoked_at IS NULL""",
        badge_id,
        citizen_id,
        at,
        verification,
    )
    return result != "UPDATE 0"
