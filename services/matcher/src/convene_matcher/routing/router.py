"""POST /v1/calls/{call_id}/match: route a call to an explained, diverse panel (internal)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from convene_common.problems import problem_responses
from convene_matcher.calls import lifecycle as calls_lifecycle
from convene_matcher.configs.dependencies import active_matching_config
from convene_matcher.dependencies import ready_evidence
from convene_matcher.routing import service
from convene_matcher.routing.dependencies import routing_state
from convene_matcher.routing.schemas import MatchRequest, MatchResult

router = APIRouter(prefix="/v1/calls", tags=["routing"])


@router.post("/{call_id}/match", responses=problem_responses(401, 404, 422, 503))
async def match_call(
    call_id: uuid.UUID,
    public_body_id: uuid.UUID,
    request: Request,
    body: MatchRequest | None = None,
) -> MatchResult:
    """Ranks pseudonymous candidates, selects a panel under the call's quotas and caps, and
    reports unmet quotas with a reason. Deterministic; ``seed`` varies near-equal ties."""
    result = await service.match_call(
        pool=request.app.state.pool,
        evidence=ready_evidence(request),
        state=routing_state(request),
        config=await active_matching_config(request),
        call_id=call_id,
        public_body_id=public_body_id,
        request=body or MatchRequest(),
    )
    # Kept so GET /v1/calls/{id}/match answers it again without routing.
    await calls_lifecycle.save_last_match(
        pool=request.app.state.pool, call_id=call_id, result=result
    )
    return result
