"""Admin routes onto the matcher: affinity scores (the gold-standard contract) and the index."""

from __future__ import annotations

from fastapi import APIRouter

from convene_common.problems import problem_responses
from convene_gateway.affinity import service
from convene_gateway.affinity.schemas import (
    AffinityRequest,
    AffinityResult,
    IndexStatus,
    RebuildResult,
)
from convene_gateway.auth.dependencies import CurrentAdmin
from convene_gateway.dependencies import MatcherDep

ADMIN = (401, 403, 422, 502, 503, 504)

router = APIRouter(prefix="/v1/admin", tags=["admin: matching"])


@router.post(
    "/affinity",
    summary="Score candidate texts for one person's evidence (gold-standard contract)",
    responses=problem_responses(400, 413, *ADMIN),
)
async def affinity(
    body: AffinityRequest, admin: CurrentAdmin, matcher: MatcherDep
) -> AffinityResult:
    return await service.affinity(matcher=matcher, request=body)


@router.get(
    "/index/status",
    summary="The matcher's evidence index and change-feed position",
    responses=problem_responses(*ADMIN),
)
async def index_status(admin: CurrentAdmin, matcher: MatcherDep) -> IndexStatus:
    return await service.index_status(matcher=matcher)


@router.post(
    "/index/rebuild",
    summary="Rebuild the evidence index from the matcher's citizen store and swap it in",
    responses=problem_responses(*ADMIN),
)
async def rebuild_index(admin: CurrentAdmin, matcher: MatcherDep) -> RebuildResult:
    return await service.rebuild_index(matcher=matcher)
