from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from convene_common.problems import problem_responses
from convene_profiles.dependencies import PoolDep, SettingsDep
from convene_profiles.skills import service
from convene_profiles.skills.schemas import SkillCreate, SkillList, SkillRead

router = APIRouter(prefix="/v1/citizens/{citizen_id}/skills", tags=["skills"])


@router.post("", status_code=201, responses=problem_responses(404, 409, 413, 422))
async def add_skill(
    citizen_id: UUID, data: SkillCreate, pool: PoolDep, settings: SettingsDep
) -> SkillRead:
    return await service.add_skill(pool, citizen_id=citizen_id, data=data, settings=settings)


@router.get("", responses=problem_responses(404, 422))
async def list_skills(citizen_id: UUID, pool: PoolDep) -> SkillList:
    return await service.list_skills(pool, citizen_id=citizen_id)


@router.delete("/{skill_id}", status_code=204, responses=problem_responses(404, 422))
async def remove_skill(
    citizen_id: UUID, skill_id: UUID, pool: PoolDep, settings: SettingsDep
) -> Response:
    await service.remove_skill(pool, citizen_id=citizen_id, skill_id=skill_id, settings=settings)
    return Response(status_code=204)
