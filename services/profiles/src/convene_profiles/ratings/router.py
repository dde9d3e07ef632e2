from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from convene_common.problems import problem_responses
from convene_profiles.dependencies import PoolDep, SettingsDep
from convene_profiles.ratings import service
from convene_profiles.ratings.schemas import RatingCreate, RatingList, RatingRead

router = APIRouter(prefix="/v1/citizens/{citizen_id}/ratings", tags=["ratings"])


@router.post("", status_code=201, responses=problem_responses(404, 409, 413, 422))
async def add_rating(
    citizen_id: UUID, data: RatingCreate, pool: PoolDep, settings: SettingsDep
) -> RatingRead:
    return await service.add_rating(pool, citizen_id=citizen_id, data=data, settings=settings)


@router.get("", responses=problem_responses(400, 404, 422))
async def list_ratings(
    citizen_id: UUID,
    pool: PoolDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
) -> RatingList:
    return await service.list_ratings(
        pool, citizen_id=citizen_id, limit=limit, cursor=cursor, settings=settings
    )
