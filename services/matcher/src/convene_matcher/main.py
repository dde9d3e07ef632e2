"""The matcher service app: `create_app(settings)`; heavy resources are made in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request

from convene_common.app import create_service_app
from convene_common.db import create_pool, database_ready
from convene_common.logging import configure_logging
from convene_matcher.config import MatcherSettings

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: MatcherSettings | None = None) -> FastAPI:
    settings = settings or MatcherSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await create_pool(
            settings.dsn(),
            schema=settings.database_schema,
            min_size=settings.database_pool_min,
            max_size=settings.database_pool_max,
        )
        try:
            yield
        finally:
            await app.state.pool.close()

    async def readiness(request: Request) -> dict[str, str]:
        return {"database": await database_ready(getattr(request.app.state, "pool", None))}

    return create_service_app(
        title="Convene matcher", settings=settings, lifespan=lifespan, readiness=readiness
    )


def app_from_env() -> FastAPI:
    """Entry point for uvicorn --factory."""
    settings = MatcherSettings()
    configure_logging("matcher", settings.log_level)
    return create_app(settings)
