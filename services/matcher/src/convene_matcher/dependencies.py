"""Typed access to what the lifespan put on app.state."""

from __future__ import annotations

from fastapi import Request

from convene_matcher.errors import NotReadyError
from convene_matcher.index.service import EvidenceService


def ready_evidence(request: Request) -> EvidenceService:
    evidence: EvidenceService | None = getattr(request.app.state, "evidence", None)
    if evidence is None:
        raise NotReadyError("The model and index are still loading; retry shortly.")
    return evidence
