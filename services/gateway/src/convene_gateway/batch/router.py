"""Routing-batch routes for admins and for public bodies (thin; see service)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from convene_common.problems import problem_responses
from convene_gateway.auth.dependencies import CurrentAdmin, require_public_body
from convene_gateway.auth.schemas import PublicBodyPrincipal
from convene_gateway.batch import service
from convene_gateway.batch.schemas import AdminBatchCreate, BatchRead, BodyBatchCreate
from convene_gateway.clients.matcher_batch import MatcherBatchClient

AUTHED = (401, 403, 422, 502, 503, 504)


# `async def` although nothing is awaited: FastAPI runs a plain `def` dependency in its
# thread pool, a thread hop per dependency per request.
async def get_matcher_batch(request: Request) -> MatcherBatchClient:
    client: MatcherBatchClient = request.app.state.matcher_batch
    return client


MatcherBatchDep = Annotated[MatcherBatchClient, Depends(get_matcher_batch)]
CallsReader = Annotated[PublicBodyPrincipal, Depends(require_public_body("calls:read"))]
CallsWriter = Annotated[PublicBodyPrincipal, Depends(require_public_body("calls:write"))]

router = APIRouter(tags=["routing batches"])

SOLVE = (
    "Assigns panels to many calls together so nobody exceeds their monthly invitation cap "
    "and popular people are not all given to the first call (min-cost flow; an exact "
    "integer program where role quotas or affiliation caps bind). Reports total score, unmet "
    "quotas and solve time beside routing the calls one after another under the same caps. "
    "Stored and readable; no invitation is sent."
)


@router.post(
    "/v1/admin/routing-batches",
    status_code=status.HTTP_201_CREATED,
    summary="Route many calls at once under the citizens' monthly caps",
    description=SOLVE,
    responses=problem_responses(404, 409, *AUTHED),
)
async def create_admin_batch(
    body: AdminBatchCreate, admin: CurrentAdmin, matcher: MatcherBatchDep
) -> BatchRead:
    return await service.create_for_admin(matcher=matcher, admin=admin, body=body)


@router.get(
    "/v1/admin/routing-batches/{batch_id}",
    summary="A routing batch: panels, unmet quotas, totals beside sequential routing",
    responses=problem_responses(404, *AUTHED),
)
async def get_admin_batch(
    batch_id: uuid.UUID, admin: CurrentAdmin, matcher: MatcherBatchDep
) -> BatchRead:
    return await service.get_for_admin(matcher=matcher, batch_id=batch_id)


@router.post(
    "/v1/calls/routing-batches",
    status_code=status.HTTP_201_CREATED,
    summary="Route your open calls at once under the citizens' monthly caps",
    description=SOLVE,
    responses=problem_responses(404, 409, *AUTHED),
)
async def create_body_batch(
    body: CallsWriter, matcher: MatcherBatchDep, request: BodyBatchCreate | None = None
) -> BatchRead:
    return await service.create_for_body(
        matcher=matcher, body=body, request=request or BodyBatchCreate()
    )


@router.get(
    "/v1/calls/routing-batches/{batch_id}",
    summary="One of your routing batches",
    responses=problem_responses(404, *AUTHED),
)
async def get_body_batch(
    batch_id: uuid.UUID, body: CallsReader, matcher: MatcherBatchDep
) -> BatchRead:
    return await service.get_for_body(matcher=matcher, body=body, batch_id=batch_id)
