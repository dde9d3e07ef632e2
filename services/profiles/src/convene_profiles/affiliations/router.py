from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from convene_common.problems import problem_responses
from convene_profiles.affiliations import service
from convene_profiles.affiliations.schemas import (
    AffiliationCreate,
    AffiliationList,
    AffiliationRead,
)
from convene_profiles.dependencies import PoolDep, SettingsDep

router = APIRouter(prefix="/v1/citizens/{citizen_id}/affiliations", tags=["affiliations"])


@router.post("", status_code=201, responses=problem_responses(404, 413, 422))
async def add_affiliation(
    citizen_id: UUID, data: AffiliationCreate, pool: PoolDep, settings: SettingsDep
) -> AffiliationRead:
    return await service.add_affiliation(pool, citizen_id=citizen_id, data=data, settings=settings)


@router.get("", responses=problem_responses(404, 422))
async def list_affiliations(citizen_id: UUID, pool: PoolDep) -> AffiliationList:
    return await service.list_affiliations(pool, citizen_id=citizen_id)


@router.delete("/{affiliation_id}", status_code=204, responses=problem_responses(404, 422))
async def remove_affiliation(
    citizen_id: UUID, affiliation_id: UUID, pool: PoolDep, settings: SettingsDep
) -> Response:
    await service.remove_affiliation(
        pool, citizen_id=citizen_id, affiliation_id=affiliation_id, settings=settings
    )
    return Response(status_code=204)
