"""Internal admin route: the concentration of invitations (the gateway adds admin auth)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from convene_common.problems import problem_responses
from convene_matcher.exposure import service
from convene_matcher.exposure.dependencies import EvidenceDep, PoolDep
from convene_matcher.exposure.schemas import ExposureFigures

router = APIRouter(prefix="/v1", tags=["exposure"])


@router.get("/exposure", responses=problem_responses(401, 422, 503))
async def exposure(
    pool: PoolDep, evidence: EvidenceDep, days: Annotated[int, Query(ge=1, le=3650)] = 365
) -> ExposureFigures:
    """Concentration of invitations: top-5% share, Gini, new voices."""
    store = evidence.store

    def monthly_cap_of(citizen_id: str) -> int | None:
        record = store.get(citizen_id)
        return record.snapshot.availability.max_invitations_per_month if record else None

    return await service.exposure_figures(
        pool=pool, population=len(store), days=days, monthly_cap_of=monthly_cap_of
    )
