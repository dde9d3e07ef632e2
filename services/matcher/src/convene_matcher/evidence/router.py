"""Internal route: a citizen's evidence items as the matcher holds them (the gateway serves it
to the citizen as ``GET /v1/me/evidence``)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from convene_common.problems import problem_responses
from convene_matcher.dependencies import StoreDep
from convene_matcher.evidence import service
from convene_matcher.evidence.schemas import HeldEvidence

router = APIRouter(prefix="/v1", tags=["evidence"])


@router.get("/citizens/{citizen_id}/evidence", responses=problem_responses(401, 422, 503))
async def citizen_evidence(citizen_id: uuid.UUID, store: StoreDep) -> HeldEvidence:
    """Every evidence item of the citizen, private ones included (marked private)."""
    return service.held_evidence(store, citizen_id=str(citizen_id))
