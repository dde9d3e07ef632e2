"""POST /v1/calls/{call_id}/match: route a call to an explained, diverse panel (internal)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from convene_common.problems import problem_responses
from convene_matcher.routing import service
from convene_matcher.routing.dependencies import ActiveConfigDep, EvidenceDep, PoolDep, RoutingDep
from convene_matcher.routing.schemas import MatchRequest, MatchResult

router = APIRouter(prefix="/v1/calls", tags=["routing"])


@router.post(
    "/{call_id}/match",
    response_model=MatchResult,
    responses=problem_responses(401, 404, 422, 503),
)
async def match_call(
    call_id: uuid.UUID,
    public_body_id: uuid.UUID,
    pool: PoolDep,
    evidence: EvidenceDep,
    routing: RoutingDep,
    active: ActiveConfigDep,
    body: MatchRequest | None = None,
) -> Response:
    """Ranks pseudonymous candidates, selects a panel under the call's quotas and caps, and
    reports unmet quotas with a reason. Deterministic; ``seed`` varies near-equal ties."""
    stored = await service.match_call(
        pool=pool,
        evidence=evidence,
        state=routing,
        config=active.config,
        config_id=active.config_id,
        call_id=call_id,
        public_body_id=public_body_id,
        request=body or MatchRequest(),
    )
    # The JSON just stored as the call's last match (GET answers it again without routing),
    # sent as is: returning the model made FastAPI validate and serialise it a second time.
    return Response(content=stored.body, media_type="application/json")
