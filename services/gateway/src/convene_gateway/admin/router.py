"""Admin routes that forward to profiles: curated roles, badge issuers, the change feed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from convene_common.problems import problem_responses
from convene_gateway.admin import service
from convene_gateway.admin.schemas import BadgeIssuerCreate, CuratedRoleCreate
from convene_gateway.audit import service as audit
from convene_gateway.audit.service import Actor
from convene_gateway.auth.dependencies import CurrentAdmin
from convene_gateway.clients.profiles_schemas import (
    BadgeIssuerRead,
    ChangePage,
    CuratedRoleRead,
    ItemList,
)
from convene_gateway.dependencies import PoolDep, ProfilesDep

ADMIN = (401, 403, 422, 502, 503, 504)

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.get("/roles", summary="The curated list of roles", responses=problem_responses(*ADMIN))
async def list_curated_roles(
    admin: CurrentAdmin, profiles: ProfilesDep
) -> ItemList[CuratedRoleRead]:
    return await service.list_curated_roles(profiles=profiles)


@router.post(
    "/roles",
    status_code=status.HTTP_201_CREATED,
    summary="Add a role to the curated list",
    responses=problem_responses(409, *ADMIN),
)
async def create_curated_role(
    body: CuratedRoleCreate, admin: CurrentAdmin, profiles: ProfilesDep
) -> CuratedRoleRead:
    return await service.create_curated_role(profiles=profiles, role=body)


@router.get("/badge-issuers", summary="Trusted badge issuers", responses=problem_responses(*ADMIN))
async def list_badge_issuers(
    admin: CurrentAdmin, profiles: ProfilesDep
) -> ItemList[BadgeIssuerRead]:
    return await service.list_badge_issuers(profiles=profiles)


@router.post(
    "/badge-issuers",
    status_code=status.HTTP_201_CREATED,
    summary="Trust a badge issuer",
    responses=problem_responses(409, *ADMIN),
)
async def create_badge_issuer(
    body: BadgeIssuerCreate, admin: CurrentAdmin, profiles: ProfilesDep
) -> BadgeIssuerRead:
    return await service.create_badge_issuer(profiles=profiles, issuer=body)


@router.get(
    "/changes",
    summary="The profiles change feed (read-only view for admins and checks)",
    responses=problem_responses(*ADMIN),
)
async def list_changes(
    admin: CurrentAdmin,
    profiles: ProfilesDep,
    pool: PoolDep,
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ChangePage:
    page = await service.list_changes(profiles=profiles, after=after, limit=limit)
    await audit.record_now(
        pool=pool,
        actor=Actor.of(admin),
        action="change_feed.read",
        object_type="change_feed",
        object_id=None,
        detail={"after": after, "limit": limit},
    )
    return page
