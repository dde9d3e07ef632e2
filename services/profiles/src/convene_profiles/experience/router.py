from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response

from convene_common.db import Pool
from convene_common.problems import problem_responses
from convene_profiles.config import ProfilesSettings
from convene_profiles.dependencies import get_pool, get_settings
from convene_profiles.experience import service
from convene_profiles.experience.schemas import (
    ExperienceCreate,
    ExperienceList,
    ExperienceRead,
    ExperienceUpdate,
)

router = APIRouter(tags=["experience"])

PoolDep = Annotated[Pool, Depends(get_pool)]
SettingsDep = Annotated[ProfilesSettings, Depends(get_settings)]


@router.post(
    "/v1/citizens/{citizen_id}/experience",
    status_code=201,
    responses=problem_responses(404, 409, 413, 422),
)
async def add_experience(
    citizen_id: UUID, data: ExperienceCreate, pool: PoolDep, settings: SettingsDep
) -> ExperienceRead:
    return await service.add_entry(pool, citizen_id=citizen_id, data=data, settings=settings)


@router.get("/v1/citizens/{citizen_id}/experience", responses=problem_responses(404, 422))
async def list_experience(citizen_id: UUID, pool: PoolDep) -> ExperienceList:
    return await service.list_entries(pool, citizen_id=citizen_id)


@router.patch(
    "/v1/citizens/{citizen_id}/experience/{entry_id}",
    responses=problem_responses(400, 404, 413, 422),
)
async def update_experience(
    citizen_id: UUID,
    entry_id: UUID,
    data: ExperienceUpdate,
    pool: PoolDep,
    settings: SettingsDep,
) -> ExperienceRead:
    return await service.update_entry(
        pool, citizen_id=citizen_id, entry_id=entry_id, data=data, settings=settings
    )


@router.delete(
    "/v1/citizens/{citizen_id}/experience/{entry_id}",
    status_code=204,
    responses=problem_responses(404, 422),
)
async def remove_experience(
    citizen_id: UUID, entry_id: UUID, pool: PoolDep, settings: SettingsDep
) -> Response:
    await service.remove_entry(pool, citizen_id=citizen_id, entry_id=entry_id, settings=settings)
    return Response(status_code=204)
