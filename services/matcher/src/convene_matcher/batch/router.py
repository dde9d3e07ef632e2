"""Internal routing-batch API; the gateway exposes it to admins and to public bodies."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from convene_common.problems import problem_responses
from convene_matcher.batch import service
from convene_matcher.batch.schemas import BatchCreate, BatchRead
from convene_matcher.routing.dependencies import ActiveConfigDep, EvidenceDep, PoolDep, RoutingDep

router = APIRouter(prefix="/v1/routing-batches", tags=["routing-batches"])


@router.post(
    "", status_code=status.HTTP_201_CREATED, responses=problem_responses(401, 404, 409, 422, 503)
)
async def create_batch(
    body: BatchCreate,
    pool: PoolDep,
    evidence: EvidenceDep,
    routing: RoutingDep,
    active: ActiveConfigDep,
) -> BatchRead:
    """Panels for many calls together under every citizen's monthly cap, beside the panels
    routing them one after another would give; stored, nothing sent."""
    return await service.create_batch(
        pool=pool,
        evidence=evidence,
        routing=routing,
        config_id=active.config_id,
        config=active.config,
        body=body,
    )


@router.get("/{batch_id}", responses=problem_responses(401, 404, 422))
async def get_batch(
    batch_id: uuid.UUID, pool: PoolDep, public_body_id: uuid.UUID | None = None
) -> BatchRead:
    """A stored batch (with ``public_body_id``: only that body's own)."""
    return await service.get_batch(pool=pool, batch_id=batch_id, public_body_id=public_body_id)
