from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from convene_common.problems import problem_responses
from convene_profiles.badges import service
from convene_profiles.badges.schemas import (
    BadgeCreate,
    BadgeIssuerCreate,
    BadgeIssuerList,
    BadgeIssuerRead,
    BadgeList,
    BadgeRead,
    BadgeRecheckResult,
)
from convene_profiles.dependencies import HttpClientDep, PoolDep, SettingsDep

router = APIRouter(tags=["badges"])


@router.post(
    "/v1/citizens/{citizen_id}/badges",
    status_code=201,
    responses=problem_responses(404, 413, 422),
)
async def import_badge(
    citizen_id: UUID, data: BadgeCreate, pool: PoolDep, settings: SettingsDep, client: HttpClientDep
) -> BadgeRead:
    """Verifies and stores a badge; one that fails a check is kept with verified=false."""
    return await service.import_badge(
        pool, client=client, citizen_id=citizen_id, data=data, settings=settings
    )


@router.get("/v1/citizens/{citizen_id}/badges", responses=problem_responses(404, 422))
async def list_badges(citizen_id: UUID, pool: PoolDep) -> BadgeList:
    return await service.list_badges(pool, citizen_id=citizen_id)


@router.delete(
    "/v1/citizens/{citizen_id}/badges/{badge_id}",
    status_code=204,
    responses=problem_responses(404, 422),
)
async def remove_badge(
    citizen_id: UUID, badge_id: UUID, pool: PoolDep, settings: SettingsDep
) -> Response:
    await service.remove_badge(pool, citizen_id=citizen_id, badge_id=badge_id, settings=settings)
    return Response(status_code=204)


@router.post("/v1/badges/recheck")
async def recheck_badges(
    pool: PoolDep, settings: SettingsDep, client: HttpClientDep
) -> BadgeRecheckResult:
    """Re-checks the revocation of verified badges last checked over badge_recheck_hours ago
    (the background task does the same every badge_recheck_interval_seconds)."""
    return await service.recheck_revocations(pool, client=client, settings=settings)


@router.get("/v1/badge-issuers", responses=problem_responses(400, 422))
async def list_issuers(
    pool: PoolDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=3000)] = None,
) -> BadgeIssuerList:
    return await service.list_issuers(pool, limit=limit, cursor=cursor)


@router.post("/v1/badge-issuers", status_code=201, responses=problem_responses(409, 413, 422))
async def register_issuer(data: BadgeIssuerCreate, pool: PoolDep) -> BadgeIssuerRead:
    return await service.register_issuer(pool, data=data)
