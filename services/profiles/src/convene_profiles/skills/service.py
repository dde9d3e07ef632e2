from __future__ import annotations

import uuid
from uuid import UUID

from convene_common.db import Pool
from convene_profiles.config import ProfilesSettings
from convene_profiles.errors import CitizenNotFoundError, NotFoundError, SkillLimitError
from convene_profiles.profile_state import load_states, skill_read
from convene_profiles.skills import repository
from convene_profiles.skills.schemas import SkillCreate, SkillList, SkillRead
from convene_profiles.unit_of_work import citizen_change


async def add_skill(
    pool: Pool, *, citizen_id: UUID, data: SkillCreate, settings: ProfilesSettings
) -> SkillRead:
    async with citizen_change(pool, citizen_id=citizen_id, settings=settings) as connection:
        count = await repository.count_skills(connection, citizen_id=citizen_id)
        if count >= settings.max_skills_per_citizen:
            raise SkillLimitError(
                f"A citizen can list at most {settings.max_skills_per_citizen} skills; "
                "remove one before adding another."
            )
        row = await repository.insert_skill(
            connection,
            skill_id=uuid.uuid4(),
            citizen_id=citizen_id,
            label=data.label,
            level=data.level.value,
            code=data.code,
            visible_to_bodies=data.visible_to_bodies,
        )
    return skill_read(row)


async def list_skills(pool: Pool, *, citizen_id: UUID) -> SkillList:
    async with pool.acquire() as connection:
        states = await load_states(connection, citizen_ids=[citizen_id])
    if citizen_id not in states:
        raise CitizenNotFoundError(f"No citizen with id {citizen_id}.")
    return SkillList(items=[skill_read(row) for row in states[citizen_id].skills])


async def remove_skill(
    pool: Pool, *, citizen_id: UUID, skill_id: UUID, settings: ProfilesSettings
) -> None:
    async with citizen_change(pool, citizen_id=citizen_id, settings=settings) as connection:
        if not await repository.delete_skill(connection, citizen_id=citizen_id, skill_id=skill_id):
            raise NotFoundError("This citizen has no skill with that id.", slug="skill-not-found")
