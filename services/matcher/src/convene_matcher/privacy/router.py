"""Internal route: the matcher's part of a citizen's GDPR export (the gateway includes it in
``GET /v1/me/export``)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from convene_common.problems import problem_responses
from convene_matcher.privacy import service
from convene_matcher.privacy.dependencies import PoolDep
from convene_matcher.privacy.schemas import MatcherExport

router = APIRouter(prefix="/v1", tags=["privacy"])


@router.get("/citizens/{citizen_id}/export", responses=problem_responses(401, 422))
async def export_citizen(citizen_id: uuid.UUID, pool: PoolDep) -> MatcherExport:
    """Everything the matcher holds about the citizen (empty lists for a stranger)."""
    return await service.export_citizen(pool=pool, citizen_id=citizen_id)
