"""Internal routing-batch API; the gateway exposes it to admins and to public bodies."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status

from convene_common.problems import problem_responses
from convene_matcher.batch import service
from convene_matcher.batch.schemas import BatchCreate, BatchRead
from convene_matcher.configs import service as configs_service
from convene_matcher.configs.dependencies import configs_state
from convene_matcher.dependencies import ready_evidence
from convene_matcher.routing.dependencies import routing_state

router = APIRouter(prefix="/v1/routing-batches", tags=["routing-batches"])


@router.post(
    "", status_code=status.HTTP_201_CREATED, responses=problem_responses(401, 404, 409, 422, 503)
)
async def create_batch(body: BatchCreate, request: Request) -> BatchRead:
    """Panels for many calls together under every citizen's monthly cap, beside the panels
    routing them one after another would give; stored, nothing sent."""
    evidence = ready_evidence(request)
    config_id, config = await configs_service.active_config(
        pool=request.app.state.pool, state=configs_state(request)
    )
    return await service.create_batch(
        pool=request.app.state.pool,
        evidence=evidence,
        routing=routing_state(request),
        config_id=config_id,
        config=config,
        body=body,
    )


@router.get("/{batch_id}", responses=problem_responses(401, 404, 422))
async def get_batch(
    batch_id: uuid.UUID, request: Request, public_body_id: uuid.UUID | None = None
) -> BatchRead:
    """A stored batch (with ``public_body_id``: only that body's own)."""
    return await service.get_batch(
        pool=request.app.state.pool, batch_id=batch_id, public_body_id=public_body_id
    )
