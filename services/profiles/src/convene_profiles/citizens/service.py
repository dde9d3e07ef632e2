"""Citizen rules: registration, updates, export and erasure. Each function owns its transaction."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from convene_common.cursors import decode_cursor, encode_cursor
from convene_common.db import Connection, Pool
from convene_profiles.answers.service import answer_read
from convene_profiles.changes import repository as changes_repository
from convene_profiles.changes import service as changes_service
from convene_profiles.citizens import repository
from convene_profiles.citizens.schemas import (
    CitizenCreate,
    CitizenExport,
    CitizenList,
    CitizenRead,
    CitizenUpdate,
)
from convene_profiles.config import ProfilesSettings
from convene_profiles.errors import (
    CitizenErasedError,
    CitizenNotFoundError,
    EmailTakenError,
    InvalidCursorError,
)
from convene_profiles.imports import repository as imports_repository
from convene_profiles.imports.sealing import Sealer
from convene_profiles.imports.service import claim_for_address, past_response_read
from convene_profiles.profile_state import (
    affiliation_read,
    badge_export,
    citizen_read,
    citizen_role_read,
    experience_read,
    load_states,
    rating_read,
    skill_read,
)
from convene_profiles.unit_of_work import citizen_change, lock_citizen

logger = logging.getLogger("convene.profiles.citizens")


async def read_citizen(
    connection: Connection, *, citizen_id: UUID, settings: ProfilesSettings
) -> CitizenRead:
    states = await load_states(connection, citizen_ids=[citizen_id])
    if citizen_id not in states:
        raise CitizenNotFoundError(f"No citizen with id {citizen_id}.")
    return citizen_read(states[citizen_id], policy=settings.rating_policy())


async def get_citizen(pool: Pool, *, citizen_id: UUID, settings: ProfilesSettings) -> CitizenRead:
    async with pool.acquire() as connection:
        return await read_citizen(connection, citizen_id=citizen_id, settings=settings)


async def create_citizen(
    pool: Pool, *, data: CitizenCreate, settings: ProfilesSettings
) -> tuple[CitizenRead, bool]:
    """Returns (citizen, created). The same id again is idempotent: (existing, False)."""
    salt = settings.erasure_salt.get_secret_value()
    async with pool.acquire() as connection, connection.transaction():
        existing = await repository.get_citizen(connection, citizen_id=data.id)
        if existing is None:
            if await repository.is_tombstoned(connection, citizen_id=data.id, salt=salt):
                raise CitizenErasedError(
                    "This citizen id was erased and cannot be reused; register with a new id."
                )
            holder = await repository.citizen_id_for_email(connection, email=data.email)
            if holder is not None:
                raise EmailTakenError("Another citizen already uses this email address.")
            try:
                inserted = await repository.insert_citizen(
                    connection,
                    citizen_id=data.id,
                    email=data.email,
                    display_name=data.display_name,
                    email_verified=data.email_verified,
                )
            except asyncpg.UniqueViolationError as exc:
                raise EmailTakenError("Another citizen already uses this email address.") from exc
            if inserted is not None:
                if data.email_verified:
                    await claim_for_address(
                        connection,
                        citizen_id=data.id,
                        email=str(data.email),
                        sealer=Sealer(settings.import_secret.get_secret_value()),
                    )
                await changes_service.record_upserts(
                    connection, citizen_ids=[data.id], policy=settings.rating_policy()
                )
                logger.info("citizen registered", extra={"citizen_id": str(data.id)})
                created = True
            else:
                created = False
        else:
            created = False
        citizen = await read_citizen(connection, citizen_id=data.id, settings=settings)
    if not created and citizen.email.lower() != str(data.email).lower():
        raise EmailTakenError("This citizen id is already registered with another email address.")
    return citizen, created


async def list_citizens(
    pool: Pool, *, limit: int, cursor: str | None, settings: ProfilesSettings
) -> CitizenList:
    after_id: UUID | None = None
    if cursor is not None:
        (raw,) = decode_cursor(cursor, arity=1)
        try:
            after_id = UUID(str(raw))
        except ValueError as exc:
            raise InvalidCursorError("The cursor is malformed; use next_cursor as given.") from exc
    async with pool.acquire() as connection:
        ids = await repository.list_citizen_ids(connection, after_id=after_id, limit=limit + 1)
        page = ids[:limit]
        states = await load_states(connection, citizen_ids=page)
    policy = settings.rating_policy()
    items = [citizen_read(state, policy=policy) for state in states.values()]
    next_cursor = encode_cursor([str(page[-1])]) if len(ids) > limit else None
    return CitizenList(items=items, next_cursor=next_cursor)


def _update_values(data: CitizenUpdate) -> dict[str, Any]:
    values: dict[str, Any] = {}
    fields = data.model_fields_set
    if "display_name" in fields:
        values["display_name"] = data.display_name
    if data.bio is not None:
        values["bio"] = data.bio
    if "place" in fields:
        place = data.place
        values["place_authority_code"] = place.authority_code if place else None
        values["place_postcode_area"] = place.postcode_area if place else None
        values["place_lat"] = place.lat if place else None
        values["place_lon"] = place.lon if place else None
    if "languages" in fields:
        values["languages"] = data.languages
    if "access_needs" in fields:
        values["access_needs"] = data.access_needs
    if data.consent is not None:
        for name in ("matching", "contact", "contributions_as_evidence"):
            given = getattr(data.consent, name)
            if given is not None:
                values[f"consent_{name}"] = given
    if data.availability is not None:
        values["max_invitations_per_month"] = data.availability.max_invitations_per_month
        values["hours_per_month"] = data.availability.hours_per_month
        values["unavailable"] = [
            period.model_dump(mode="json") for period in data.availability.unavailable
        ]
    return values


async def update_citizen(
    pool: Pool, *, citizen_id: UUID, data: CitizenUpdate, settings: ProfilesSettings
) -> CitizenRead:
    values = _update_values(data)
    if not values:  # nothing to write: no lock, no change on the feed
        return await get_citizen(pool, citizen_id=citizen_id, settings=settings)
    async with citizen_change(pool, citizen_id=citizen_id, settings=settings) as connection:
        await repository.update_citizen(connection, citizen_id=citizen_id, values=values)
        return await read_citizen(connection, citizen_id=citizen_id, settings=settings)


async def erase_citizen_in_transaction(
    connection: Connection, *, citizen_id: UUID, salt: str
) -> None:
    await repository.delete_citizen(connection, citizen_id=citizen_id)
    await repository.insert_tombstone(connection, citizen_id=citizen_id, salt=salt)
    await changes_service.record_erase(connection, citizen_id=citizen_id)


async def erase_citizen(pool: Pool, *, citizen_id: UUID, settings: ProfilesSettings) -> None:
    """Deletes everything about the citizen, blanks their feed snapshots, appends an erase
    change and keeps only a salted hash of the id (to re-erase after a backup restore)."""
    async with pool.acquire() as connection, connection.transaction():
        await lock_citizen(connection, citizen_id=citizen_id)
        await erase_citizen_in_transaction(
            connection, citizen_id=citizen_id, salt=settings.erasure_salt.get_secret_value()
        )
    logger.info("citizen erased", extra={"citizen_id": str(citizen_id)})


async def reapply_tombstones(connection: Connection, *, salt: str) -> int:
    """Erases again any citizen whose id has a tombstone (e.g. restored from a backup).
    Returns how many were erased."""
    erased = 0
    async with connection.transaction():
        for citizen_id in await repository.tombstoned_citizen_ids(connection, salt=salt):
            await repository.get_citizen(connection, citizen_id=citizen_id, for_update=True)
            await erase_citizen_in_transaction(connection, citizen_id=citizen_id, salt=salt)
            erased += 1
    if erased:
        logger.warning("tombstoned citizens erased again", extra={"count": erased})
    return erased


async def export_citizen(
    pool: Pool, *, citizen_id: UUID, settings: ProfilesSettings
) -> CitizenExport:
    async with pool.acquire() as connection, connection.transaction(isolation="repeatable_read"):
        states = await load_states(connection, citizen_ids=[citizen_id])
        if citizen_id not in states:
            raise CitizenNotFoundError(f"No citizen with id {citizen_id}.")
        changes = await changes_repository.changes_for_citizen(connection, citizen_id=citizen_id)
        imported = await imports_repository.responses_for_citizen(connection, citizen_id=citizen_id)
    state = states[citizen_id]
    return CitizenExport(
        profile=citizen_read(state, policy=settings.rating_policy()),
        skills=[skill_read(r) for r in state.skills],
        roles=[citizen_role_read(r) for r in state.roles],
        badges=[badge_export(r) for r in state.badges],
        affiliations=[affiliation_read(r) for r in state.affiliations],
        experience=[experience_read(r) for r in state.experience],
        ratings_received=[rating_read(r) for r in state.ratings],
        past_responses=[past_response_read(r) for r in imported],
        answers=[answer_read(r) for r in state.answers],
        changes=[changes_service.change_read(r).model_dump(mode="json") for r in changes],
        exported_at=datetime.now(UTC),
    )
