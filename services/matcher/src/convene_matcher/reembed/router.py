"""Internal re-embedding API; the gateway exposes it to admins under /v1/admin/index/reembed."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from convene_common.problems import problem_responses
from convene_matcher.dependencies import EvidenceDep, PoolDep, StateDep
from convene_matcher.errors import NotReadyError
from convene_matcher.reembed import service
from convene_matcher.reembed.schemas import ReembedCreate, ReembedRead

router = APIRouter(prefix="/v1/index/reembed", tags=["index"])


@router.post(
    "", status_code=status.HTTP_202_ACCEPTED, responses=problem_responses(401, 409, 422, 503)
)
async def start_reembed(
    body: ReembedCreate, state: StateDep, evidence: EvidenceDep, pool: PoolDep
) -> ReembedRead:
    """Re-embeds every evidence text with another model beside the serving vectors, then
    switches to it atomically; answers at once, poll GET /v1/index/reembed/{id}."""
    if state.embedding_spec is None:
        raise NotReadyError("The model is still loading; retry shortly.")
    return await service.start(
        pool=pool,
        evidence=evidence,
        runner=state.reembeds,
        current=state.embedding_spec,
        options=service.ray_options(state.settings),
        body=body,
    )


@router.get("/{job_id}", responses=problem_responses(401, 404, 422))
async def get_reembed(job_id: uuid.UUID, pool: PoolDep) -> ReembedRead:
    return await service.get(pool=pool, job_id=job_id)
