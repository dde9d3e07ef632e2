"""The matcher service app: `create_app(settings)`; heavy resources are made in the lifespan.

The lifespan hands over one typed ``MatcherState`` (``dependencies.py``): the asyncpg pool,
the EvidenceService (embedder, index, citizen store), the change-feed consumer and its task,
the typed profiles client, the configuration caches and evaluation jobs. Routers read it
through the ``...Dep`` aliases of ``convene_matcher.dependencies``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx
from fastapi import Depends, FastAPI, Request

from convene_common.app import create_service_app
from convene_common.db import create_pool, database_ready
from convene_common.internal_auth import require_internal_token
from convene_common.logging import configure_logging
from convene_matcher.affinity.router import router as affinity_router
from convene_matcher.batch.router import router as batch_router
from convene_matcher.calls.router import router as calls_router
from convene_matcher.clients.profiles import ProfilesClient
from convene_matcher.config import MatcherSettings
from convene_matcher.configs import service as configs_service
from convene_matcher.configs.router import router as configs_router
from convene_matcher.configs.service import ConfigsState
from convene_matcher.contributions.router import router as contributions_router
from convene_matcher.dependencies import MatcherState
from convene_matcher.embedding.backends import EmbeddingSpec
from convene_matcher.embedding.embedder import Embedder, SentenceModel
from convene_matcher.evaluation import service as evaluation_service
from convene_matcher.evaluation.router import router as evaluation_router
from convene_matcher.evidence.router import router as evidence_router
from convene_matcher.exposure.router import router as exposure_router
from convene_matcher.feed.consumer import FeedConsumer, feed_readiness
from convene_matcher.index.evidence_index import Ids, IndexParams
from convene_matcher.index.router import router as index_router
from convene_matcher.index.service import EvidenceService
from convene_matcher.invitations.router import router as invitations_router
from convene_matcher.metrics.sources import install_matcher_metrics
from convene_matcher.notifications.router import router as notifications_router
from convene_matcher.privacy.router import router as privacy_router
from convene_matcher.reembed import service as reembed_service
from convene_matcher.reembed.router import router as reembed_router
from convene_matcher.routing import pipeline as routing_pipeline
from convene_matcher.routing import service as routing_service
from convene_matcher.routing.dependencies import RoutingState, ref_secret_from
from convene_matcher.routing.router import router as routing_router
from convene_matcher.scoring import MatchingConfig

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"

logger = logging.getLogger("convene.matcher")


def index_params(settings: MatcherSettings) -> IndexParams:
    return IndexParams(
        exact_max_items=settings.exact_search_max_items,
        hnsw_m=settings.hnsw_m,
        hnsw_ef_search=settings.hnsw_ef_search,
        hnsw_ef_construction=settings.hnsw_ef_construction,
        hnsw_storage=settings.hnsw_storage,
        rebuild_tombstone_ratio=settings.hnsw_rebuild_tombstone_ratio,
    )


def embedding_spec(settings: MatcherSettings) -> EmbeddingSpec:
    return EmbeddingSpec(
        model_name=settings.model_name,
        model_path=settings.model_path,
        backend=settings.embedding_backend,
        threads=settings.torch_threads,
        onnx_dir=settings.onnx_dir,
        batch_size=settings.embed_batch_size,
    )


def create_app(
    settings: MatcherSettings | None = None,
    *,
    profiles_transport: httpx.AsyncBaseTransport | None = None,
    embedding_model: SentenceModel | None = None,
) -> FastAPI:
    """``profiles_transport`` lets tests run profiles in-process; ``embedding_model`` lets
    them share one loaded model (it is stateless)."""
    settings = settings or MatcherSettings()
    token = settings.internal_token.get_secret_value() if settings.internal_token else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await create_pool(
            settings.dsn(),
            schema=settings.database_schema,
            min_size=settings.database_pool_min,
            max_size=settings.database_pool_max,
            # No session state is left on its connections (statements and transactions
            # only: advisory locks are transaction-scoped, no LISTEN, SET or cursors), so a
            # release skips asyncpg's reset query: a round trip per acquire, and ~4% of the
            # matcher's GIL-holding samples at 4 clients (an open transaction is still
            # rolled back on release).
            reset_on_release=False,
        )
        state = MatcherState(
            settings=settings,
            pool=pool,
            profiles=ProfilesClient.create(
                base_url=settings.profiles_url,
                timeout_seconds=settings.profiles_timeout_seconds,
                long_poll_seconds=settings.feed_wait_seconds,
                internal_token=token,
                transport=profiles_transport,
            ),
            configs=ConfigsState(),
            evaluations=evaluation_service.EvaluationRunner(),
            routing=RoutingState(ref_secret=ref_secret_from(settings)),
            matching_config=MatchingConfig(),
        )
        state.publish(app)
        postings_task: asyncio.Task[int] | None = None
        try:
            await configs_service.ensure_default(pool=pool)
            _, state.matching_config = await configs_service.active_config(
                pool=pool, state=state.configs
            )
            await evaluation_service.recover(pool=pool)
            await reembed_service.recover(pool=pool)
            configured = embedding_spec(settings)
            spec = await reembed_service.active_spec(pool=pool, configured=configured)
            # A model handed in by a test stands for the configured model only.
            model: SentenceModel
            if embedding_model is not None and spec == configured:
                model = embedding_model
            else:
                model, _ = await anyio.to_thread.run_sync(spec.load)
            version = await anyio.to_thread.run_sync(lambda: spec.version)
            state.embedding_spec = spec
            embedder = Embedder(
                model=model,
                model_name=version,
                batch_size=settings.embed_batch_size,
                cache_entries=settings.embed_cache_entries,
            )
            evidence = EvidenceService(
                embedder=embedder,
                pool=pool,
                index_dir=settings.index_dir,
                params=index_params(settings),
                warm_up=routing_pipeline.warm_up,
            )

            async def fill_postings(ids: Ids) -> None:
                # Under the configuration active now (an activation may change the floor).
                await routing_service.fill_lexical_postings_of(
                    evidence=evidence, config=state.matching_config, ids=ids
                )

            evidence.on_texts_added = fill_postings
            await evidence.load()
            state.feed = FeedConsumer(evidence=evidence, client=state.profiles, settings=settings)
            state.evidence = evidence
            if settings.feed_enabled:
                state.feed_task = asyncio.create_task(state.feed.run(), name="matcher-change-feed")
            postings_task = asyncio.create_task(
                routing_service.warm_lexical_postings(
                    evidence=evidence, config=state.matching_config
                ),
                name="matcher-lexical-postings",
            )
            state.publish(app)
            yield
        finally:
            if postings_task is not None:
                postings_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await postings_task
            await state.evaluations.shutdown()
            await state.reembeds.shutdown()
            if state.feed_task is not None:
                state.feed_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await state.feed_task
            if state.evidence is not None and state.evidence.changes_since_snapshot:
                await state.evidence.save_snapshot()
            await state.profiles.aclose()
            await pool.close()

    async def readiness(request: Request) -> dict[str, str]:
        state: MatcherState | None = getattr(request.app.state, "matcher", None)
        evidence = state.evidence if state is not None else None
        components = {
            "database": await database_ready(state.pool if state is not None else None),
            "model": "ok" if evidence is not None else "loading",
            "index": "ok" if evidence is not None and evidence.index is not None else "loading",
        }
        if settings.ready_max_feed_lag is not None:
            components["feed"] = feed_readiness(
                state.feed if state is not None else None, max_lag=settings.ready_max_feed_lag
            )
        return components

    app = create_service_app(
        title="Convene matcher", settings=settings, lifespan=lifespan, readiness=readiness
    )
    install_matcher_metrics(app)
    internal = [Depends(require_internal_token(token))]
    app.include_router(affinity_router, dependencies=internal)
    app.include_router(index_router, dependencies=internal)
    app.include_router(reembed_router, dependencies=internal)
    app.include_router(evidence_router, dependencies=internal)
    app.include_router(calls_router, dependencies=internal)
    app.include_router(routing_router, dependencies=internal)
    app.include_router(configs_router, dependencies=internal)
    app.include_router(batch_router, dependencies=internal)
    app.include_router(evaluation_router, dependencies=internal)
    app.include_router(invitations_router, dependencies=internal)
    app.include_router(contributions_router, dependencies=internal)
    app.include_router(exposure_router, dependencies=internal)
    app.include_router(privacy_router, dependencies=internal)
    app.include_router(notifications_router, dependencies=internal)
    return app


def app_from_env() -> FastAPI:
    """Entry point for uvicorn --factory."""
    settings = MatcherSettings()
    configure_logging("matcher", settings.log_level)
    return create_app(settings)
