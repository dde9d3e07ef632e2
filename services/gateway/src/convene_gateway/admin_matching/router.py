"""Admin routes: matching configurations and offline evaluations (thin; see service)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status

from convene_common.problems import problem_responses
from convene_gateway.admin_matching import service
from convene_gateway.admin_matching.schemas import (
    ActivationList,
    ConfigList,
    ConfigRead,
    EvaluationCreate,
    EvaluationRead,
    MatchingConfigCreate,
    PreviewRequest,
    PreviewResult,
)
from convene_gateway.audit import service as audit
from convene_gateway.audit.service import Actor
from convene_gateway.auth.dependencies import CurrentAdmin
from convene_gateway.auth.schemas import AdminPrincipal
from convene_gateway.clients.matcher_admin import MatcherAdminClient
from convene_gateway.dependencies import PoolDep

# Configuration ids are 32-bit serials. The :int path convertor also keeps
# /matching-configs/rollback from being read as an id (a GET there is 405, not 422).
ConfigId = Annotated[int, Path(ge=1, le=2**31 - 1, description="A configuration's number")]

ADMIN = (401, 403, 422, 502, 503, 504)


# `async def` although nothing is awaited: FastAPI runs a plain `def` dependency in its
# thread pool, a thread hop per dependency per request.
async def get_matcher_admin(request: Request) -> MatcherAdminClient:
    client: MatcherAdminClient = request.app.state.matcher_admin
    return client


MatcherAdminDep = Annotated[MatcherAdminClient, Depends(get_matcher_admin)]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=512)]

router = APIRouter(prefix="/v1/admin", tags=["admin: matching"])


@router.get(
    "/matching-configs",
    summary="Matching configurations, newest first",
    responses=problem_responses(400, *ADMIN),
)
async def list_configs(
    admin: CurrentAdmin, matcher: MatcherAdminDep, limit: Limit = 50, cursor: Cursor = None
) -> ConfigList:
    return await service.list_configs(matcher=matcher, limit=limit, cursor=cursor)


@router.post(
    "/matching-configs",
    status_code=status.HTTP_201_CREATED,
    summary="Create a matching configuration (immutable, numbered; not yet active)",
    responses=problem_responses(*ADMIN),
)
async def create_config(
    body: MatchingConfigCreate, admin: CurrentAdmin, matcher: MatcherAdminDep, pool: PoolDep
) -> ConfigRead:
    created = await service.create_config(matcher=matcher, admin=admin, body=body)
    await _audit(pool, admin, "config.created", created.id)
    return created


async def _audit(pool: PoolDep, admin: AdminPrincipal, action: str, config_id: int) -> None:
    await audit.record_now(
        pool=pool,
        actor=Actor.of(admin),
        action=action,
        object_type="matching_config",
        object_id=str(config_id),
    )


@router.get(
    "/matching-configs/active",
    summary="The active matching configuration",
    responses=problem_responses(*ADMIN),
)
async def get_active(admin: CurrentAdmin, matcher: MatcherAdminDep) -> ConfigRead:
    return await service.get_active(matcher=matcher)


@router.get(
    "/matching-configs/activations",
    summary="Every activation and rollback (who, when, from which to which)",
    responses=problem_responses(400, *ADMIN),
)
async def list_activations(
    admin: CurrentAdmin, matcher: MatcherAdminDep, limit: Limit = 50, cursor: Cursor = None
) -> ActivationList:
    return await service.list_activations(matcher=matcher, limit=limit, cursor=cursor)


@router.post(
    "/matching-configs/rollback",
    summary="Re-activate the configuration active before the current one",
    responses=problem_responses(409, *ADMIN),
)
async def rollback(admin: CurrentAdmin, matcher: MatcherAdminDep, pool: PoolDep) -> ConfigRead:
    active = await service.rollback(matcher=matcher, admin=admin)
    await _audit(pool, admin, "config.rolled_back", active.id)
    return active


@router.get(
    "/matching-configs/{config_id:int}",
    summary="One matching configuration",
    responses=problem_responses(404, *ADMIN),
)
async def get_config(
    config_id: ConfigId, admin: CurrentAdmin, matcher: MatcherAdminDep
) -> ConfigRead:
    return await service.get_config(matcher=matcher, config_id=config_id)


@router.post(
    "/matching-configs/{config_id:int}/activate",
    summary="Activate a configuration (an earlier one: roll back to it)",
    responses=problem_responses(404, *ADMIN),
)
async def activate(
    config_id: ConfigId, admin: CurrentAdmin, matcher: MatcherAdminDep, pool: PoolDep
) -> ConfigRead:
    active = await service.activate(matcher=matcher, admin=admin, config_id=config_id)
    await _audit(pool, admin, "config.activated", active.id)
    return active


@router.post(
    "/matching-configs/{config_id:int}/preview",
    summary="A call's panel under this configuration beside the active one's",
    responses=problem_responses(404, *ADMIN),
)
async def preview(
    config_id: ConfigId, body: PreviewRequest, admin: CurrentAdmin, matcher: MatcherAdminDep
) -> PreviewResult:
    return await service.preview(matcher=matcher, config_id=config_id, call_id=body.call_id)


@router.post(
    "/evaluations",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Evaluate a configuration offline (history replay or gold standard) as a job",
    responses=problem_responses(404, *ADMIN),
)
async def start_evaluation(
    body: EvaluationCreate, admin: CurrentAdmin, matcher: MatcherAdminDep
) -> EvaluationRead:
    return await service.start_evaluation(matcher=matcher, admin=admin, body=body)


@router.get(
    "/evaluations/{job_id}",
    summary="An evaluation job: status, progress, figures",
    responses=problem_responses(404, *ADMIN),
)
async def get_evaluation(
    job_id: uuid.UUID, admin: CurrentAdmin, matcher: MatcherAdminDep
) -> EvaluationRead:
    return await service.get_evaluation(matcher=matcher, job_id=job_id)


@router.post(
    "/evaluations/{job_id}/cancel",
    summary="Cancel a queued or running evaluation",
    responses=problem_responses(404, 409, *ADMIN),
)
async def cancel_evaluation(
    job_id: uuid.UUID, admin: CurrentAdmin, matcher: MatcherAdminDep
) -> EvaluationRead:
    return await service.cancel_evaluation(matcher=matcher, job_id=job_id)
