"""Admin operations the matcher owns, forwarded as they are."""

from __future__ import annotations

import logging

from convene_gateway.affinity.schemas import (
    AffinityRequest,
    AffinityResult,
    IndexStatus,
    RebuildResult,
)
from convene_gateway.clients.matcher import MatcherClient

logger = logging.getLogger("convene.gateway.affinity")


async def affinity(
    *, matcher: MatcherClient, request: AffinityRequest, timeout_seconds: float
) -> AffinityResult:
    return await matcher.affinity(
        request=request.model_dump(mode="json", exclude_none=True),
        timeout_seconds=timeout_seconds,
    )


async def index_status(*, matcher: MatcherClient) -> IndexStatus:
    return await matcher.index_status()


async def rebuild_index(*, matcher: MatcherClient) -> RebuildResult:
    result = await matcher.rebuild_index()
    logger.info("index rebuilt", extra={"items": result.items, "seq": result.seq})
    return result
