from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from convene_common.problems import problem_responses
from convene_profiles.citizens import service
from convene_profiles.citizens.schemas import (
    CitizenCreate,
    CitizenExport,
    CitizenList,
    CitizenRead,
    CitizenUpdate,
)
from convene_profiles.dependencies import PoolDep, SettingsDep

router = APIRouter(prefix="/v1/citizens", tags=["citizens"])


@router.post(
    "",
    status_code=201,
    responses={
        200: {"model": CitizenRead, "description": "Already registered with this id"},
        **problem_responses(409, 413, 422),
    },
)
async def create_citizen(
    data: CitizenCreate, response: Response, pool: PoolDep, settings: SettingsDep
) -> CitizenRead:
    citizen, created = await service.create_citizen(pool, data=data, settings=settings)
    if not created:
        response.status_code = 200
    return citizen


@router.get("", responses=problem_responses(400, 422))
async def list_citizens(
    pool: PoolDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> CitizenList:
    return await service.list_citizens(pool, limit=limit, cursor=cursor, settings=settings)


@router.get("/{citizen_id}", responses=problem_responses(404, 422))
async def get_citizen(citizen_id: UUID, pool: PoolDep, settings: SettingsDep) -> CitizenRead:
    return await service.get_citizen(pool, citizen_id=citizen_id, settings=settings)


@router.patch("/{citizen_id}", responses=problem_responses(404, 413, 422))
async def update_citizen(
    citizen_id: UUID, data: CitizenUpdate, pool: PoolDep, settings: SettingsDep
) -> CitizenRead:
    return await service.update_citizen(pool, citizen_id=citizen_id, data=data, settings=settings)


@router.delete("/{citizen_id}", status_code=204, responses=problem_responses(404, 422))
async def erase_citizen(citizen_id: UUID, pool: PoolDep, settings: SettingsDep) -> Response:
    await service.erase_citizen(pool, citizen_id=citizen_id, settings=settings)
    return Response(status_code=204)


@router.get("/{citizen_id}/export", responses=problem_responses(404, 422))
async def export_citizen(citizen_id: UUID, pool: PoolDep, settings: SettingsDep) -> CitizenExport:
    return await service.export_citizen(pool, citizen_id=citizen_id, settings=settings)
