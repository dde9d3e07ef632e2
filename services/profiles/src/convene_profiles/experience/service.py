"""Experience rules: every write goes through the per-citizen unit of work (so it is on the
change feed); entries belong to one citizen and are addressed only under that citizen."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

import asyncpg

from convene_common.db import Pool
from convene_profiles.config import ProfilesSettings
from convene_profiles.errors import (
    CitizenNotFoundError,
    ExperienceLimitError,
    NotFoundError,
    ProfilesError,
)
from convene_profiles.experience import repository
from convene_profiles.experience.schemas import (
    ExperienceCreate,
    ExperienceList,
    ExperienceRead,
    ExperienceUpdate,
)
from convene_profiles.profile_state import experience_read, load_states
from convene_profiles.unit_of_work import citizen_change


def _not_found() -> NotFoundError:
    return NotFoundError(
        "This citizen has no experience entry with that id.", slug="experience-not-found"
    )


async def add_entry(
    pool: Pool, *, citizen_id: UUID, data: ExperienceCreate, settings: ProfilesSettings
) -> ExperienceRead:
    limit = settings.max_experience_entries_per_citizen
    async with citizen_change(pool, citizen_id=citizen_id, settings=settings) as connection:
        if await repository.count_entries(connection, citizen_id=citizen_id) >= limit:
            raise ExperienceLimitError(
                f"A citizen can keep at most {limit} experience entries; "
                "remove one before adding another."
            )
        row = await repository.insert_entry(
            connection,
            entry_id=uuid.uuid4(),
            citizen_id=citizen_id,
            kind=data.kind.value,
            title=data.title,
            description=data.description,
            started_on=data.from_,
            ended_on=data.to,
            organisation=data.organisation,
            visible_to_bodies=data.visible_to_bodies,
        )
    return experience_read(row)


def _update_values(data: ExperienceUpdate) -> dict[str, Any]:
    fields = data.model_fields_set
    values: dict[str, Any] = {}
    if data.kind is not None:
        values["kind"] = data.kind.value
    if data.title is not None:
        values["title"] = data.title
    if data.description is not None:
        values["description"] = data.description
    if "from_" in fields:
        values["started_on"] = data.from_
    if "to" in fields:
        values["ended_on"] = data.to
    if "organisation" in fields:
        values["organisation"] = data.organisation
    if data.visible_to_bodies is not None:
        values["visible_to_bodies"] = data.visible_to_bodies
    return values


async def update_entry(
    pool: Pool,
    *,
    citizen_id: UUID,
    entry_id: UUID,
    data: ExperienceUpdate,
    settings: ProfilesSettings,
) -> ExperienceRead:
    values = _update_values(data)
    async with citizen_change(pool, citizen_id=citizen_id, settings=settings) as connection:
        if not values:
            row = await repository.get_entry(connection, citizen_id=citizen_id, entry_id=entry_id)
        else:
            try:
                async with connection.transaction():
                    row = await repository.update_entry(
                        connection, citizen_id=citizen_id, entry_id=entry_id, values=values
                    )
            except asyncpg.CheckViolationError as exc:
                # Only the date order can fail here: lengths and kinds were validated.
                raise ProfilesError(
                    "'from' must not be after 'to' (with the entry's stored dates).",
                    slug="experience-dates-out-of-order",
                ) from exc
        if row is None:
            raise _not_found()
    return experience_read(row)


async def list_entries(pool: Pool, *, citizen_id: UUID) -> ExperienceList:
    async with pool.acquire() as connection:
        states = await load_states(connection, citizen_ids=[citizen_id])
    if citizen_id not in states:
        raise CitizenNotFoundError(f"No citizen with id {citizen_id}.")
    return ExperienceList(items=[experience_read(r) for r in states[citizen_id].experience])


async def remove_entry(
    pool: Pool, *, citizen_id: UUID, entry_id: UUID, settings: ProfilesSettings
) -> None:
    async with citizen_change(pool, citizen_id=citizen_id, settings=settings) as connection:
        if not await repository.delete_entry(connection, citizen_id=citizen_id, entry_id=entry_id):
            raise _not_found()
