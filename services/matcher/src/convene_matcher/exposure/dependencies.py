"""Typed access to what the exposure routes need from the lifespan's state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from convene_common.db import Pool
from convene_matcher.dependencies import ready_evidence
from convene_matcher.index.service import EvidenceService


def get_pool(request: Request) -> Pool:
    pool: Pool = request.app.state.pool
    return pool


def get_evidence(request: Request) -> EvidenceService:
    return ready_evidence(request)


PoolDep = Annotated[Pool, Depends(get_pool)]
EvidenceDep = Annotated[EvidenceService, Depends(get_evidence)]
