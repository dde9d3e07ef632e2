"""Every SQL statement about organisations and their API keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from convene_gateway.dependencies import Connection


@dataclass(frozen=True)
class OrganisationRow:
    id: uuid.UUID
    name: str
    kind: str
    created_at: datetime


@dataclass(frozen=True)
class ApiKeyRow:
    id: uuid.UUID
    organisation_id: uuid.UUID
    name: str
    lookup_prefix: str
    key_hash: bytes
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


# A key's last_used_at is kept to this resolution: a busy key must not turn every read into
# a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)

_ORGANISATION_COLUMNS = "id, name, kind, created_at"
_KEY_COLUMNS = (
    "id, organisation_id, name, lookup_prefix, key_hash, scopes, created_at, revoked_at, "
    "last_used_at"
)


def _organisation(record: asyncpg.Record | None) -> OrganisationRow | None:
    return None if record is None else OrganisationRow(**dict(record))


def _key(record: asyncpg.Record | None) -> ApiKeyRow | None:
    return None if record is None else ApiKeyRow(**dict(record))


async def insert_organisation(
    connection: Connection, *, organisation_id: uuid.UUID, name: str, kind: str
) -> OrganisationRow:
    record = await connection.fetchrow(
        f"""INSERT INTO organisation (id, name, kind) VALUES ($1, $2, $3)
            RETURNING {_ORGANISATION_COLUMNS}""",
        organisation_id,
        name,
        kind,
    )
    row = _organisation(record)
    assert row is not None
    return row


async def get_organisation(
    connection: Connection, *, organisation_id: uuid.UUID
) -> OrganisationRow | None:
    record = await connection.fetchrow(
        f"SELECT {_ORGANISATION_COLUMNS} FROM organisation WHERE id = $1", organisation_id
    )
    return _organisation(record)


async def get_organisation_by_name(connection: Connection, *, name: str) -> OrganisationRow | None:
    record = await connection.fetchrow(
        f"SELECT {_ORGANISATION_COLUMNS} FROM organisation WHERE lower(name) = lower($1)", name
    )
    return _organisation(record)


async def list_organisations(
    connection: Connection, *, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[OrganisationRow]:
    if after is None:
        records = await connection.fetch(
            f"""SELECT {_ORGANISATION_COLUMNS} FROM organisation
                ORDER BY created_at, id LIMIT $1""",
            limit,
        )
    else:
        records = await connection.fetch(
            f"""SELECT {_ORGANISATION_COLUMNS} FROM organisation
                WHERE (created_at, id) > ($1, $2)
                ORDER BY created_at, id LIMIT $3""",
            after[0],
            after[1],
            limit,
        )
    return [OrganisationRow(**dict(record)) for record in records]


async def insert_api_key(
    connection: Connection,
    *,
    key_id: uuid.UUID,
    organisation_id: uuid.UUID,
    name: str,
    lookup_prefix: str,
    key_hash: bytes,
    scopes: list[str],
    created_by: uuid.UUID | None,
) -> ApiKeyRow:
    record = await connection.fetchrow(
        f"""INSERT INTO api_key
                (id, organisation_id, name, lookup_prefix, key_hash, scopes, created_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            RETURNING {_KEY_COLUMNS}""",
        key_id,
        organisation_id,
        name,
        lookup_prefix,
        key_hash,
        scopes,
        created_by,
    )
    row = _key(record)
    assert row is not None
    return row


async def get_api_key_by_prefix(connection: Connection, *, lookup_prefix: str) -> ApiKeyRow | None:
    record = await connection.fetchrow(
        f"SELECT {_KEY_COLUMNS} FROM api_key WHERE lookup_prefix = $1", lookup_prefix
    )
    return _key(record)


async def list_api_keys(connection: Connection, *, organisation_id: uuid.UUID) -> list[ApiKeyRow]:
    records = await connection.fetch(
        f"""SELECT {_KEY_COLUMNS} FROM api_key WHERE organisation_id = $1
            ORDER BY created_at, id""",
        organisation_id,
    )
    return [ApiKeyRow(**dict(record)) for record in records]


async def revoke_api_key(
    connection: Connection, *, key_id: uuid.UUID, organisation_id: uuid.UUID | None = None
) -> ApiKeyRow | None:
    """Revokes once; revoking again keeps the first revocation time. With organisation_id,
    only a key of that organisation."""
    record = await connection.fetchrow(
        f"""UPDATE api_key SET revoked_at = coalesce(revoked_at, now())
            WHERE id = $1 AND ($2::uuid IS NULL OR organisation_id = $2)
            RETURNING {_KEY_COLUMNS}""",
        key_id,
        organisation_id,
    )
    return _key(record)


async def touch_api_key(connection: Connection, *, key_id: uuid.UUID) -> None:
    await connection.execute(
        """UPDATE api_key SET last_used_at = now()
           WHERE id = $1
             AND (last_used_at IS NULL OR last_used_at < now() - $2::interval)""",
        key_id,
        LAST_USED_RESOLUTION,
    )
