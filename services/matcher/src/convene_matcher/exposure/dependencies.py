"""Typed access to what the exposure routes need from the lifespan's state."""

from __future__ import annotations

from typing import Annotated, Any, TypeAlias

import asyncpg
from fastapi import Depends, Request

from convene_matcher.dependencies import ready_evidence
from convene_matcher.index.service import EvidenceService

Pool: TypeAlias = "asyncpg.Pool[Any]"


def get_pool(request: Request) -> Pool:
    pool: Pool = request.app.state.pool
    return pool


def get_evidence(request: Request) -> EvidenceService:
    return ready_evidence(request)


PoolDep = Annotated[Pool, Depends(get_pool)]
EvidenceDep = Annotated[EvidenceService, Depends(get_evidence)]
