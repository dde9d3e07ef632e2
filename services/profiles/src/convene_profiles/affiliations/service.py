from __future__ import annotations

import uuid
from uuid import UUID

from convene_common.db import Pool
from convene_profiles.affiliations import repository
from convene_profiles.affiliations.schemas import (
    AffiliationCreate,
    AffiliationList,
    AffiliationRead,
)
from convene_profiles.changes import service as changes_service
from convene_profiles.citizens.service import lock_citizen
from convene_profiles.config import ProfilesSettings
from convene_profiles.errors import CitizenNotFoundError, NotFoundError
from convene_profiles.profile_state import affiliation_read, load_states


async def add_affiliation(
    pool: Pool, *, citizen_id: UUID, data: AffiliationCreate, settings: ProfilesSettings
) -> AffiliationRead:
    async with pool.acquire() as connection, connection.transaction():
        await lock_citizen(connection, citizen_id=citizen_id)
        row = await repository.insert_affiliation(
            connection,
            affiliation_id=uuid.uuid4(),
            citizen_id=citizen_id,
            organisation=data.organisation,
            kind=data.kind.value,
        )
        await changes_service.record_upserts(
            connection, citizen_ids=[citizen_id], policy=settings.rating_policy()
        )
    return affiliation_read(row)


async def list_affiliations(pool: Pool, *, citizen_id: UUID) -> AffiliationList:
    async with pool.acquire() as connection:
        states = await load_states(connection, citizen_ids=[citizen_id])
    if citizen_id not in states:
        raise CitizenNotFoundError(f"No citizen with id {citizen_id}.")
    return AffiliationList(items=[affiliation_read(r) for r in states[citizen_id].affiliations])


async def remove_affiliation(
    pool: Pool, *, citizen_id: UUID, affiliation_id: UUID, settings: ProfilesSettings
) -> None:
    async with pool.acquire() as connection, connection.transaction():
        await lock_citizen(connection, citizen_id=citizen_id)
        deleted = await repository.delete_affiliation(
            connection, citizen_id=citizen_id, affiliation_id=affiliation_id
        )
        if not deleted:
            raise NotFoundError(
                "This citizen has no affiliation with that id.", slug="affiliation-not-found"
            )
        await changes_service.record_upserts(
            connection, citizen_ids=[citizen_id], policy=settings.rating_policy()
        )
