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
from convene_gateway.dependencies import MatcherDep, SettingsDep

ADMIN = (401, 403, 422, 502, 503, 504)

PREFIX = "/v1/admin"
# The body-size limit of its own (main.py hands it to the limit middleware by method+path).
AFFINITY_METHOD, AFFINITY_PATH = "POST", f"{PREFIX}/affinity"

router = APIRouter(prefix=PREFIX, tags=["admin: matching"])


@router.post(
    "/affinity",
    summary="Score candidate texts for one person's evidence (gold-standard contract)",
    responses={
        **problem_responses(400, 413, *ADMIN),
        413: {
            **problem_responses(413)[413],
            "description": "The body is larger than this route's own limit (1 MiB by default, "
            "CONVENE_GATEWAY_AFFINITY_MAX_REQUEST_BYTES), or a text or list longer than the "
            "matcher takes.",
        },
    },
)
async def affinity(
    body: AffinityRequest, admin: CurrentAdmin, matcher: MatcherDep, settings: SettingsDep
) -> AffinityResult:
    """One researcher's evidence papers and candidate texts in, one score per candidate out
    (same order, deterministic).

    Bodies up to **1 MiB** are accepted here (every other route: 64 KiB): a researcher's
    twenty titles and abstracts with their candidates come to about 90 KB. The matcher gets
    60 s to answer (CONVENE_GATEWAY_AFFINITY_TIMEOUT_SECONDS): it embeds every text.
    """
    return await service.affinity(
        matcher=matcher, request=body, timeout_seconds=settings.affinity_timeout_seconds
    )


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
