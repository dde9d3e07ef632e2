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
from convene_profiles.config import ProfilesSettings
from convene_profiles.errors import CitizenNotFoundError, NotFoundError
from convene_profiles.profile_state import affiliation_read, load_states
from convene_profiles.unit_of_work import citizen_change


async def add_affiliation(
    pool: Pool, *, citizen_id: UUID, data: AffiliationCreate, settings: ProfilesSettings
) -> AffiliationRead:
    async with citizen_change(pool, citizen_id=citizen_id, settings=settings) as connection:
        row = await repository.insert_affiliation(
            connection,
            affiliation_id=uuid.uuid4(),
            citizen_id=citizen_id,
            organisation=data.organisation,
            kind=data.kind.value,
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
    async with citizen_change(pool, citizen_id=citizen_id, settings=settings) as connection:
        deleted = await repository.delete_affiliation(
            connection, citizen_id=citizen_id, affiliation_id=affiliation_id
        )
        if not deleted:
            raise NotFoundError(
                "This citizen has no affiliation with that id.", slug="affiliation-not-found"
            )
