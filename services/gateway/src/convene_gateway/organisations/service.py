"""Organisations and API keys: creation, revocation, and authenticating a presented key."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from convene_common.cursors import InvalidCursorError, decode_cursor, encode_cursor
from convene_gateway.audit import service as audit
from convene_gateway.audit.service import Actor
from convene_gateway.auth.cache import CredentialCache
from convene_gateway.dependencies import Connection, Pool
from convene_gateway.errors import ConflictError, NotFoundError
from convene_gateway.organisations import keys, repository
from convene_gateway.organisations.repository import ApiKeyRow, OrganisationRow

logger = logging.getLogger("convene.gateway.organisations")


@dataclass(frozen=True)
class CreatedKey:
    row: ApiKeyRow
    plaintext: str


async def create_organisation(*, pool: Pool, name: str, kind: str) -> OrganisationRow:
    async with pool.acquire() as connection:
        return await create_organisation_with(connection=connection, name=name, kind=kind)


async def create_organisation_with(
    *, connection: Connection, name: str, kind: str
) -> OrganisationRow:
    try:
        async with connection.transaction():
            organisation = await repository.insert_organisation(
                connection, organisation_id=uuid.uuid4(), name=name, kind=kind
            )
    except asyncpg.UniqueViolationError as exc:
        raise ConflictError("An organisation with this name already exists.") from exc
    logger.info("organisation created", extra={"organisation_id": str(organisation.id)})
    return organisation


async def ensure_organisation(*, connection: Connection, name: str, kind: str) -> OrganisationRow:
    """The organisation with this name, made if missing (bootstrap)."""
    existing = await repository.get_organisation_by_name(connection, name=name)
    if existing is not None:
        return existing
    return await create_organisation_with(connection=connection, name=name, kind=kind)


async def list_organisations(
    *, pool: Pool, cursor: str | None, limit: int
) -> tuple[list[OrganisationRow], str | None]:
    after: tuple[datetime, uuid.UUID] | None = None
    if cursor is not None:
        created_at, organisation_id = decode_cursor(cursor, arity=2)
        try:
            after = (datetime.fromisoformat(str(created_at)), uuid.UUID(str(organisation_id)))
        except ValueError as exc:
            raise InvalidCursorError("The cursor is malformed; use next_cursor as given.") from exc
    async with pool.acquire() as connection:
        rows = await repository.list_organisations(connection, after=after, limit=limit + 1)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([last.created_at.isoformat(), str(last.id)])
    return rows, next_cursor


async def create_api_key(
    *,
    pool: Pool,
    organisation_id: uuid.UUID,
    name: str,
    scopes: list[str],
    created_by: uuid.UUID | None,
    actor: Actor,
) -> CreatedKey:
    async with pool.acquire() as connection, connection.transaction():
        created = await create_api_key_with(
            connection=connection,
            organisation_id=organisation_id,
            name=name,
            scopes=scopes,
            created_by=created_by,
        )
        await audit.record(
            connection,
            actor=actor,
            action="api_key.created",
            object_type="api_key",
            object_id=created.row.id,
            organisation_id=organisation_id,
            detail={"scopes": created.row.scopes},
        )
    return created


async def create_api_key_with(
    *,
    connection: Connection,
    organisation_id: uuid.UUID,
    name: str,
    scopes: list[str],
    created_by: uuid.UUID | None,
) -> CreatedKey:
    async with connection.transaction():
        organisation = await repository.get_organisation(
            connection, organisation_id=organisation_id
        )
        if organisation is None:
            raise NotFoundError("The organisation does not exist.")
        generated = keys.generate_key()
        row = await repository.insert_api_key(
            connection,
            key_id=uuid.uuid4(),
            organisation_id=organisation_id,
            name=name,
            lookup_prefix=generated.lookup_prefix,
            key_hash=generated.key_hash,
            scopes=sorted(set(scopes)),
            created_by=created_by,
        )
    logger.info(
        "api key created",
        extra={"api_key_id": str(row.id), "organisation_id": str(organisation_id)},
    )
    return CreatedKey(row=row, plaintext=generated.plaintext)


async def list_api_keys(*, pool: Pool, organisation_id: uuid.UUID) -> list[ApiKeyRow]:
    async with pool.acquire() as connection:
        organisation = await repository.get_organisation(
            connection, organisation_id=organisation_id
        )
        if organisation is None:
            raise NotFoundError("The organisation does not exist.")
        return await repository.list_api_keys(connection, organisation_id=organisation_id)


async def revoke_api_key(
    *,
    pool: Pool,
    credentials: CredentialCache,
    key_id: uuid.UUID,
    actor: Actor,
    organisation_id: uuid.UUID | None = None,
) -> ApiKeyRow:
    """organisation_id: only a key of this organisation (a manager's); another's is a 404."""
    async with pool.acquire() as connection, connection.transaction():
        row = await repository.revoke_api_key(
            connection, key_id=key_id, organisation_id=organisation_id
        )
        if row is None:
            raise NotFoundError("The API key does not exist.")
        await audit.record(
            connection,
            actor=actor,
            action="api_key.revoked",
            object_type="api_key",
            object_id=row.id,
            organisation_id=row.organisation_id,
        )
    # After the revocation: a lookup that read the key before it cannot cache it any more.
    credentials.api_keys.evict(row.lookup_prefix)
    logger.info("api key revoked", extra={"api_key_id": str(key_id)})
    return row


async def authenticate_api_key(
    *, pool: Pool, credentials: CredentialCache, presented: str
) -> ApiKeyRow | None:
    """The live key matching what was presented, or None. Records its use (to the minute)."""
    parsed = keys.parse_key(presented)
    if parsed is None:
        return None
    cached = credentials.api_keys.get(parsed.lookup_prefix)
    if cached is not None:
        return cached if keys.key_matches(parsed.plaintext, cached.key_hash) else None
    generation = credentials.api_keys.generation()
    async with pool.acquire() as connection:
        row = await repository.get_api_key_by_prefix(connection, lookup_prefix=parsed.lookup_prefix)
        if row is None or row.revoked_at is not None:
            return None
        if not keys.key_matches(parsed.plaintext, row.key_hash):
            return None
        if row.last_used_at is None or row.last_used_at < datetime.now(UTC) - (
            repository.LAST_USED_RESOLUTION
        ):
            # The row says it was used moments ago: skip the round trip (the UPDATE would
            # match nothing).
            await repository.touch_api_key(connection, key_id=row.id)
    credentials.api_keys.put(parsed.lookup_prefix, row, generation=generation)
    return row
