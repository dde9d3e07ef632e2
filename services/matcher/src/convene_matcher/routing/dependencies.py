"""Routing's typed dependencies: its state from the lifespan, and the ``Annotated`` aliases
routing's and batch routing's routers take instead of reading ``request.app.state``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from convene_common.db import Pool
from convene_matcher.config import MatcherSettings
from convene_matcher.configs import service as configs_service
from convene_matcher.configs.dependencies import configs_state
from convene_matcher.errors import NotReadyError
from convene_matcher.index.service import EvidenceService
from convene_matcher.scoring import MatchingConfig

# Used only when no secret is configured outside production (see MatcherSettings.ref_secret).
DEVELOPMENT_REF_SECRET = b"convene-development-ref-secret"


@dataclass
class RoutingState:
    ref_secret: bytes


@dataclass(frozen=True, slots=True)
class ActiveConfig:
    """The active matching configuration and its id (None: the built-in defaults)."""

    config_id: int | None
    config: MatchingConfig


def ready_evidence(request: Request) -> EvidenceService:
    """503 until the model and index are loaded. Defined here, not imported from
    convene_matcher.dependencies: that module imports routing (through evaluation), and
    routing.service imports this one, so the import would be a cycle."""
    evidence: EvidenceService | None = getattr(request.app.state, "evidence", None)
    if evidence is None:
        raise NotReadyError("The model and index are still loading; retry shortly.")
    return evidence


def routing_state(request: Request) -> RoutingState:
    state: RoutingState | None = getattr(request.app.state, "routing", None)
    if state is None:
        raise NotReadyError("Routing is still starting; retry shortly.")
    return state


def database_pool(request: Request) -> Pool:
    pool: Pool = request.app.state.pool
    return pool


async def active_config(request: Request) -> ActiveConfig:
    """Read per request: activations on any replica apply at once."""
    config_id, config = await configs_service.active_config(
        pool=database_pool(request), state=configs_state(request)
    )
    return ActiveConfig(config_id, config)


PoolDep = Annotated[Pool, Depends(database_pool)]
EvidenceDep = Annotated[EvidenceService, Depends(ready_evidence)]
RoutingDep = Annotated[RoutingState, Depends(routing_state)]
ActiveConfigDep = Annotated[ActiveConfig, Depends(active_config)]


def ref_secret_from(settings: MatcherSettings) -> bytes:
    if settings.ref_secret is not None:
        return settings.ref_secret.get_secret_value().encode()
    if settings.environment == "production":
        raise ValueError("CONVENE_MATCHER_REF_SECRET must be set in production")
    return DEVELOPMENT_REF_SECRET
