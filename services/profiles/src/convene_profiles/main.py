"""The profiles service app: `create_app(settings)`; heavy resources are made in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
from fastapi import Depends, FastAPI, Request

from convene_common.app import create_service_app
from convene_common.db import Pool, create_pool, database_ready
from convene_common.internal_auth import require_internal_token
from convene_common.logging import configure_logging
from convene_profiles.affiliations.router import router as affiliations_router
from convene_profiles.answers.router import ANSWERS_IMPORT_PATH
from convene_profiles.answers.router import router as answers_router
from convene_profiles.badges.router import router as badges_router
from convene_profiles.badges.service import recheck_loop
from convene_profiles.changes.router import router as changes_router
from convene_profiles.citizens.router import router as citizens_router
from convene_profiles.citizens.service import reapply_tombstones
from convene_profiles.citizens.verification import router as email_verification_router
from convene_profiles.config import ProfilesSettings
from convene_profiles.experience.router import router as experience_router
from convene_profiles.imports.jobs import ImportRunner
from convene_profiles.imports.router import IMPORTS_PATH
from convene_profiles.imports.router import router as imports_router
from convene_profiles.imports.sealing import Sealer
from convene_profiles.imports.service import purge_unclaimed
from convene_profiles.ratings.router import router as ratings_router
from convene_profiles.roles.router import router as roles_router
from convene_profiles.skills.router import router as skills_router

logger = logging.getLogger("convene.profiles")

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: ProfilesSettings | None = None) -> FastAPI:
    settings = settings or ProfilesSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await create_pool(
            settings.dsn(),
            schema=settings.database_schema,
            min_size=settings.database_pool_min,
            max_size=settings.database_pool_max,
        )
        # Badge fetches go only to allow-listed hosts, never follow redirects, and time out.
        app.state.http_client = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.badge_fetch_timeout_seconds),
            follow_redirects=False,
            headers={"Accept": "application/ld+json, application/json"},
        )
        app.state.sealer = Sealer(settings.import_secret.get_secret_value())
        app.state.import_runner = ImportRunner(
            pool=app.state.pool, settings=settings, sealer=app.state.sealer
        )
        recheck: asyncio.Task[None] | None = None
        purge: asyncio.Task[None] | None = None
        try:
            if settings.reapply_tombstones_on_startup:
                async with app.state.pool.acquire() as connection:
                    await reapply_tombstones(
                        connection, salt=settings.erasure_salt.get_secret_value()
                    )
            if settings.badge_recheck_interval_seconds > 0:
                recheck = asyncio.create_task(
                    recheck_loop(app.state.pool, client=app.state.http_client, settings=settings)
                )
            await app.state.import_runner.resume()
            if settings.imports_purge_interval_seconds > 0:
                purge = asyncio.create_task(_purge_loop(app.state.pool, settings))
            yield
        finally:
            await app.state.import_runner.close()
            if purge is not None:
                purge.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await purge
            if recheck is not None:
                recheck.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await recheck
            await app.state.http_client.aclose()
            await app.state.pool.close()

    async def readiness(request: Request) -> dict[str, str]:
        return {"database": await database_ready(getattr(request.app.state, "pool", None))}

    app = create_service_app(
        title="Convene profiles",
        settings=settings,
        lifespan=lifespan,
        readiness=readiness,
        route_body_limits={
            ("POST", IMPORTS_PATH): settings.imports_max_file_bytes,
            ("POST", ANSWERS_IMPORT_PATH): settings.answers_max_file_bytes,
        },
    )
    token = settings.internal_token.get_secret_value() if settings.internal_token else None
    internal = [Depends(require_internal_token(token))]
    for router in (
        citizens_router,
        skills_router,
        roles_router,
        experience_router,
        affiliations_router,
        badges_router,
        ratings_router,
        changes_router,
        email_verification_router,
        imports_router,
        answers_router,
    ):
        app.include_router(router, dependencies=internal)
    return app


async def _purge_loop(pool: Pool, settings: ProfilesSettings) -> None:
    """Deletes unclaimed imported responses past their retention, every interval."""
    while True:
        try:
            await purge_unclaimed(pool, settings=settings)
        except (OSError, asyncpg.PostgresError):
            logger.warning("purge of unclaimed imports failed; retrying next interval")
        await asyncio.sleep(settings.imports_purge_interval_seconds)


def app_from_env() -> FastAPI:
    """Entry point for uvicorn --factory."""
    settings = ProfilesSettings()
    configure_logging("profiles", settings.log_level)
    return create_app(settings)
