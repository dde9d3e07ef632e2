"""The gateway service app: `create_app(settings)`; heavy resources are made in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request

from convene_common.app import create_service_app
from convene_common.db import create_pool, database_ready
from convene_common.logging import configure_logging
from convene_gateway.admin.router import router as admin_router
from convene_gateway.admin_matching.router import router as admin_matching_router
from convene_gateway.affinity.router import AFFINITY_METHOD, AFFINITY_PATH
from convene_gateway.affinity.router import router as affinity_router
from convene_gateway.audit.router import router as audit_router
from convene_gateway.auth.cache import CredentialCache
from convene_gateway.auth.lifecycle_router import router as auth_lifecycle_router
from convene_gateway.auth.passwords import PasswordHasher
from convene_gateway.auth.router import router as auth_router
from convene_gateway.auth.second_factor_router import router as second_factor_router
from convene_gateway.auth.throttle import SignInThrottle
from convene_gateway.batch.router import router as batch_router
from convene_gateway.calls.router import router as calls_router
from convene_gateway.citizens.router import router as citizens_router
from convene_gateway.clients.matcher import MatcherClient
from convene_gateway.clients.matcher_admin import MatcherAdminClient
from convene_gateway.clients.matcher_batch import MatcherBatchClient
from convene_gateway.clients.profiles import ProfilesClient
from convene_gateway.config import GatewaySettings
from convene_gateway.contributions.router import router as contributions_router
from convene_gateway.imports.router import ADMIN_IMPORTS_PATH, ANSWERS_IMPORT_PATH
from convene_gateway.imports.router import router as imports_router
from convene_gateway.invitations.router import router as invitations_router
from convene_gateway.members.router import router as members_router
from convene_gateway.openapi import install_openapi_additions
from convene_gateway.organisations.router import router as organisations_router
from convene_gateway.ratelimit.limiter import RateLimiter
from convene_gateway.ratelimit.limiter import open_pool as open_rate_limit_pool
from convene_gateway.ratelimit.middleware import install_rate_limits
from convene_gateway.roles.router import router as roles_router

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"

DESCRIPTION = """The one public API of Convene.

* Citizens, staff of public bodies and admins: `POST /v1/auth/token` (OAuth2 password flow;
  admins add `totp`), then `Authorization: Bearer <token>`; `POST /v1/auth/refresh` rotates.
* Public bodies' systems: `X-API-Key: cvk_...`, created by an admin or a manager.

Errors are RFC 9457 problem+json."""


def create_app(
    settings: GatewaySettings | None = None,
    *,
    profiles_transport: httpx.AsyncBaseTransport | None = None,
    matcher_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """`profiles_transport` and `matcher_transport` replace the network for calls to those
    services (tests hand in the real apps over ASGI, or a MockTransport for failure modes)."""
    settings = settings or GatewaySettings()
    rate_limiter = RateLimiter(settings.rate_limits)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost_kib=settings.argon2_memory_cost_kib,
            parallelism=settings.argon2_parallelism,
            concurrency=settings.password_hash_concurrency,
        )
        await hasher.prepare()
        app.state.password_hasher = hasher
        app.state.sign_in_throttle = SignInThrottle(settings.rate_limits, rate_limiter)
        app.state.credentials = CredentialCache.create(
            ttl_seconds=settings.credential_cache_ttl_seconds,
            max_entries=settings.credential_cache_max_entries,
        )
        app.state.pool = await create_pool(
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
        rate_limit_pool = None
        if settings.rate_limits.enabled and settings.rate_limits.shared:
            rate_limit_pool = await open_rate_limit_pool(
                settings.dsn(),
                schema=settings.database_schema,
                max_size=settings.rate_limits.pool_max,
            )
            rate_limiter.bind(rate_limit_pool)
        purge = asyncio.create_task(
            rate_limiter.purge_full_buckets(every_seconds=settings.rate_limits.purge_every_seconds),
            name="rate-limit-purge",
        )
        app.state.profiles = ProfilesClient.from_settings(settings, transport=profiles_transport)
        app.state.matcher = MatcherClient.from_settings(settings, transport=matcher_transport)
        app.state.matcher_admin = MatcherAdminClient.from_settings(
            settings, transport=matcher_transport
        )
        app.state.matcher_batch = MatcherBatchClient.from_settings(
            settings, transport=matcher_transport
        )
        try:
            yield
        finally:
            purge.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await purge
            rate_limiter.unbind()
            if rate_limit_pool is not None:
                await rate_limit_pool.close()
            await app.state.matcher_batch.aclose()
            await app.state.matcher_admin.aclose()
            await app.state.matcher.aclose()
            await app.state.profiles.aclose()
            await app.state.pool.close()

    async def readiness(request: Request) -> dict[str, str]:
        components = {"database": await database_ready(getattr(request.app.state, "pool", None))}
        profiles: ProfilesClient | None = getattr(request.app.state, "profiles", None)
        components["profiles"] = await profiles.ping() if profiles else "no client"
        return components

    app = create_service_app(
        title="Convene gateway",
        description=DESCRIPTION,
        settings=settings,
        lifespan=lifespan,
        readiness=readiness,
        # A profiles outage degrades some routes; it must not pull the gateway out of service.
        informational_components=frozenset({"profiles"}),
        route_body_limits={
            (AFFINITY_METHOD, AFFINITY_PATH): settings.affinity_max_request_bytes,
            ("POST", ADMIN_IMPORTS_PATH): (
                settings.imports_max_file_bytes + settings.upload_overhead_bytes
            ),
            ("POST", ANSWERS_IMPORT_PATH): (
                settings.answers_max_file_bytes + settings.upload_overhead_bytes
            ),
        },
    )
    app.include_router(auth_router)
    app.include_router(auth_lifecycle_router)
    app.include_router(second_factor_router)
    app.include_router(members_router)
    app.include_router(audit_router)
    app.include_router(roles_router)
    app.include_router(citizens_router)
    app.include_router(invitations_router)
    app.include_router(contributions_router)
    app.include_router(organisations_router)
    app.include_router(admin_router)
    app.include_router(admin_matching_router)
    app.include_router(imports_router)
    app.include_router(batch_router)
    app.include_router(calls_router)
    app.include_router(affinity_router)
    install_rate_limits(app, settings, rate_limiter)
    install_openapi_additions(app)
    return app


def app_from_env() -> FastAPI:
    """Entry point for uvicorn --factory."""
    settings = GatewaySettings()
    configure_logging("gateway", settings.log_level)
    return create_app(settings)
