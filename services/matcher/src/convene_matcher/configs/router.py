"""Internal matching-configuration API; the gateway exposes it to admins under /v1/admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from convene_common.problems import problem_responses
from convene_matcher.configs import preview as preview_service
from convene_matcher.configs import service
from convene_matcher.configs.schemas import (
    ActivationList,
    ActivationRequest,
    ConfigCreate,
    ConfigList,
    ConfigRead,
    PreviewRequest,
    PreviewResult,
)
from convene_matcher.dependencies import ConfigsDep, EvidenceDep, PoolDep, RoutingDep

router = APIRouter(prefix="/v1/matching-configs", tags=["matching-configs"])

Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=512)]


@router.get("", responses=problem_responses(400, 401, 422))
async def list_configs(pool: PoolDep, limit: Limit = 50, cursor: Cursor = None) -> ConfigList:
    """Every configuration, newest first."""
    return await service.list_configs(pool=pool, limit=limit, cursor=cursor)


@router.post("", status_code=status.HTTP_201_CREATED, responses=problem_responses(401, 422))
async def create_config(body: ConfigCreate, pool: PoolDep) -> ConfigRead:
    """A new, immutable, numbered configuration (not active until activated)."""
    return await service.create_config(pool=pool, body=body)


@router.get("/active", responses=problem_responses(401))
async def get_active(pool: PoolDep) -> ConfigRead:
    return await service.get_active(pool=pool)


@router.get("/activations", responses=problem_responses(400, 401, 422))
async def list_activations(
    pool: PoolDep, limit: Limit = 50, cursor: Cursor = None
) -> ActivationList:
    """Every activation and rollback, newest first (who, when, from which to which)."""
    return await service.list_activations(pool=pool, limit=limit, cursor=cursor)


@router.post("/rollback", responses=problem_responses(401, 409, 422))
async def rollback(body: ActivationRequest, pool: PoolDep) -> ConfigRead:
    """Re-activates the configuration that was active before the current one."""
    return await service.rollback(pool=pool, activated_by=body.activated_by)


@router.get("/{config_id}", responses=problem_responses(401, 404, 422))
async def get_config(config_id: int, pool: PoolDep) -> ConfigRead:
    return await service.get_config(pool=pool, config_id=config_id)


@router.post("/{config_id}/activate", responses=problem_responses(401, 404, 422))
async def activate(config_id: int, body: ActivationRequest, pool: PoolDep) -> ConfigRead:
    """Makes the configuration active (an earlier one: a rollback to it); recorded."""
    return await service.activate(pool=pool, config_id=config_id, activated_by=body.activated_by)


@router.post("/{config_id}/preview", responses=problem_responses(401, 404, 422, 503))
async def preview(
    config_id: int,
    body: PreviewRequest,
    pool: PoolDep,
    evidence: EvidenceDep,
    routing: RoutingDep,
    configs: ConfigsDep,
) -> PreviewResult:
    """The call's panel under this configuration beside the active one's; stores nothing."""
    return await preview_service.preview(
        pool=pool,
        evidence=evidence,
        routing=routing,
        state=configs,
        config_id=config_id,
        call_id=body.call_id,
    )
