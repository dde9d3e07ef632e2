from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from convene_common.problems import problem_responses
from convene_profiles.dependencies import PoolDep, SettingsDep
from convene_profiles.roles import service
from convene_profiles.roles.schemas import (
    CitizenRoleCreate,
    CitizenRoleList,
    CitizenRoleRead,
    RoleCreate,
    RoleList,
    RoleRead,
)

router = APIRouter(tags=["roles"])


@router.get("/v1/roles")
async def list_roles(pool: PoolDep) -> RoleList:
    return await service.list_roles(pool)


@router.post("/v1/roles", status_code=201, responses=problem_responses(409, 413, 422))
async def create_role(data: RoleCreate, pool: PoolDep) -> RoleRead:
    return await service.create_role(pool, data=data)


@router.post(
    "/v1/citizens/{citizen_id}/roles",
    status_code=201,
    responses=problem_responses(404, 413, 422),
)
async def add_citizen_role(
    citizen_id: UUID, data: CitizenRoleCreate, pool: PoolDep, settings: SettingsDep
) -> CitizenRoleRead:
    return await service.add_citizen_role(pool, citizen_id=citizen_id, data=data, settings=settings)


@router.get("/v1/citizens/{citizen_id}/roles", responses=problem_responses(404, 422))
async def list_citizen_roles(citizen_id: UUID, pool: PoolDep) -> CitizenRoleList:
    return await service.list_citizen_roles(pool, citizen_id=citizen_id)


@router.delete(
    "/v1/citizens/{citizen_id}/roles/{role_id}",
    status_code=204,
    responses=problem_responses(404, 422),
)
async def remove_citizen_role(
    citizen_id: UUID, role_id: UUID, pool: PoolDep, settings: SettingsDep
) -> Response:
    await service.remove_citizen_role(
        pool, citizen_id=citizen_id, citizen_role_id=role_id, settings=settings
    )
    return Response(status_code=204)
