"""Typed wiring: the lifespan hands over one ``MatcherState``; routers read it through aliases.

Routers declare what they need as parameters, e.g. ``pool: PoolDep, evidence: EvidenceDep``,
never ``request.app.state.<name>``. The aliases:

- ``StateDep``: the whole ``MatcherState``;
- ``PoolDep``, ``SettingsDep``: the asyncpg pool and the matcher's settings;
- ``EvidenceDep`` (503 until the model and index are loaded), ``StoreDep`` (its citizen
  store), ``EmbedderDep`` (its embedder);
- ``ConfigsDep`` (parsed configurations), ``ActiveConfigDep`` (the active configuration, read
  per request), ``StartupConfigDep`` (the one active at start-up);
- ``RoutingDep`` (the ref secret), ``EvaluationsDep`` (this process's evaluation jobs);
- ``ProfilesDep`` (the typed profiles client), ``FeedDep`` (the change-feed consumer or None).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from convene_common.db import Pool
from convene_matcher.citizens.store import CitizenStore
from convene_matcher.clients.profiles import ProfilesClient
from convene_matcher.config import MatcherSettings
from convene_matcher.configs import service as configs_service
from convene_matcher.configs.service import ConfigsState
from convene_matcher.embedding.backends import EmbeddingSpec
from convene_matcher.embedding.embedder import Embedder
from convene_matcher.errors import NotReadyError
from convene_matcher.evaluation.service import EvaluationRunner
from convene_matcher.feed.consumer import FeedConsumer
from convene_matcher.index.service import EvidenceService
from convene_matcher.reembed.service import ReembedRunner
from convene_matcher.routing.dependencies import RoutingState
from convene_matcher.scoring import MatchingConfig


@dataclass(slots=True)
class MatcherState:
    """Everything the lifespan builds; ``app.state.matcher`` after start-up."""

    settings: MatcherSettings
    pool: Pool
    profiles: ProfilesClient
    configs: ConfigsState
    evaluations: EvaluationRunner
    routing: RoutingState
    # The configuration active at start-up (routing reads the active one per request).
    matching_config: MatchingConfig
    evidence: EvidenceService | None = None
    feed: FeedConsumer | None = None
    feed_task: asyncio.Task[None] | None = None
    # The spec of the model running now (reembed/ switches it) and this process's job.
    embedding_spec: EmbeddingSpec | None = None
    reembeds: ReembedRunner = field(default_factory=ReembedRunner)

    def publish(self, app: FastAPI) -> None:
        """Puts the state on ``app.state.matcher``, and (until every router reads the typed
        aliases) the same objects under their old ``app.state`` names."""
        app.state.matcher = self
        app.state.pool = self.pool
        app.state.profiles = self.profiles
        app.state.configs = self.configs
        app.state.evaluations = self.evaluations
        app.state.routing = self.routing
        app.state.matching_config = self.matching_config
        app.state.evidence = self.evidence
        app.state.feed = self.feed
        app.state.feed_task = self.feed_task


# `async def` although nothing is awaited: FastAPI runs a plain `def` dependency in its
# thread pool, a thread hop per dependency per request.
async def get_state(request: Request) -> MatcherState:
    state: MatcherState | None = getattr(request.app.state, "matcher", None)
    if state is None:
        raise NotReadyError("The matcher is still starting; retry shortly.")
    return state


StateDep = Annotated[MatcherState, Depends(get_state)]


async def get_pool(state: StateDep) -> Pool:
    return state.pool


async def get_settings(state: StateDep) -> MatcherSettings:
    return state.settings


async def get_evidence(state: StateDep) -> EvidenceService:
    if state.evidence is None:
        raise NotReadyError("The model and index are still loading; retry shortly.")
    return state.evidence


EvidenceDep = Annotated[EvidenceService, Depends(get_evidence)]


async def get_store(evidence: EvidenceDep) -> CitizenStore:
    return evidence.store


async def get_embedder(evidence: EvidenceDep) -> Embedder:
    return evidence.embedder


async def get_configs(state: StateDep) -> ConfigsState:
    return state.configs


async def get_active_config(state: StateDep) -> MatchingConfig:
    """The active configuration (read per request: activations on any replica apply at once)."""
    _, config = await configs_service.active_config(pool=state.pool, state=state.configs)
    return config


async def get_startup_config(state: StateDep) -> MatchingConfig:
    return state.matching_config


async def get_routing(state: StateDep) -> RoutingState:
    return state.routing


async def get_evaluations(state: StateDep) -> EvaluationRunner:
    return state.evaluations


async def get_profiles(state: StateDep) -> ProfilesClient:
    return state.profiles


async def get_feed(state: StateDep) -> FeedConsumer | None:
    return state.feed


PoolDep = Annotated[Pool, Depends(get_pool)]
SettingsDep = Annotated[MatcherSettings, Depends(get_settings)]
StoreDep = Annotated[CitizenStore, Depends(get_store)]
EmbedderDep = Annotated[Embedder, Depends(get_embedder)]
ConfigsDep = Annotated[ConfigsState, Depends(get_configs)]
ActiveConfigDep = Annotated[MatchingConfig, Depends(get_active_config)]
StartupConfigDep = Annotated[MatchingConfig, Depends(get_startup_config)]
RoutingDep = Annotated[RoutingState, Depends(get_routing)]
EvaluationsDep = Annotated[EvaluationRunner, Depends(get_evaluations)]
ProfilesDep = Annotated[ProfilesClient, Depends(get_profiles)]
FeedDep = Annotated[FeedConsumer | None, Depends(get_feed)]


def ready_evidence(request: Request) -> EvidenceService:
    """For routers not yet on ``EvidenceDep`` (kept until their owners switch)."""
    evidence: EvidenceService | None = getattr(request.app.state, "evidence", None)
    if evidence is None:
        raise NotReadyError("The model and index are still loading; retry shortly.")
    return evidence
