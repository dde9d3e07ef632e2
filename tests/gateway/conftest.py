"""Gateway tests: the gateway app in-process, talking to the REAL profiles app over ASGI.

Only the downstream's failure modes (refused, timeouts, 500s) use httpx.MockTransport.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from convene_gateway.config import GatewaySettings
from convene_gateway.main import create_app
from convene_profiles.config import ProfilesSettings
from convene_profiles.main import create_app as create_profiles_app
from tests.conftest import FreshDatabase

INTERNAL_TOKEN = "internal-token-for-tests-0123456789"
JWT_SECRET = "jwt-secret-for-tests-0123456789abcdef"
PASSWORD = "correct horse battery"


def gateway_settings(database: FreshDatabase, **overrides: Any) -> GatewaySettings:
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database.dsn("gateway"),
        "jwt_secret": JWT_SECRET,
        "internal_token": INTERNAL_TOKEN,
        # Cheap hashes: the tests exercise the flow, not argon2's cost.
        "argon2_time_cost": 1,
        "argon2_memory_cost_kib": 1024,
        "argon2_parallelism": 1,
        "downstream_retry_backoff_seconds": 0.0,
        "database_pool_max": 4,
    }
    values.update(overrides)
    return GatewaySettings(**values)


@dataclass
class SeenByProfiles:
    """Headers of every request the real profiles app received."""

    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)


@pytest.fixture
async def profiles_app(database: FreshDatabase) -> AsyncIterator[tuple[FastAPI, SeenByProfiles]]:
    settings = ProfilesSettings(
        environment="test",
        database_url=database.dsn("profiles"),
        internal_token=INTERNAL_TOKEN,
        database_pool_max=4,
    )
    app = create_profiles_app(settings)
    seen = SeenByProfiles()

    @app.middleware("http")
    async def record(request: Any, call_next: Callable[[Any], Awaitable[Any]]) -> Any:
        seen.requests.append((request.method, request.url.path, dict(request.headers)))
        return await call_next(request)

    async with app.router.lifespan_context(app):
        yield app, seen


@dataclass
class Gateway:
    client: httpx.AsyncClient
    app: FastAPI
    seen_by_profiles: SeenByProfiles

    async def register(
        self, *, email: str | None = None, password: str = PASSWORD, name: str = "Ada Citizen"
    ) -> dict[str, Any]:
        email = email or f"citizen-{uuid.uuid4().hex[:8]}@example.org"
        response = await self.client.post(
            "/v1/citizens", json={"email": email, "password": password, "display_name": name}
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def login(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        response = await self.client.post(
            "/v1/auth/token", data={"username": email, "password": password}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def citizen(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, str]]:
        """A registered, signed-in citizen: (registration answer, auth headers)."""
        created = await self.register(**kwargs)
        return created, await self.login(created["email"], kwargs.get("password", PASSWORD))


@pytest.fixture
async def gateway(
    database: FreshDatabase, profiles_app: tuple[FastAPI, SeenByProfiles]
) -> AsyncIterator[Gateway]:
    profiles, seen = profiles_app
    app = create_app(
        gateway_settings(database), profiles_transport=httpx.ASGITransport(app=profiles)
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield Gateway(client=client, app=app, seen_by_profiles=seen)


@pytest.fixture
async def admin_headers(database: FreshDatabase, gateway: Gateway) -> dict[str, str]:
    from convene_gateway.bootstrap import bootstrap

    await bootstrap(
        dsn=database.dsn("gateway"),
        admin_email="admin@example.org",
        admin_password="admin-password-123",
        organisation=None,
        organisation_kind="council",
        scopes=[],
        create_api_key=False,
        hasher=gateway.app.state.password_hasher,
    )
    return await gateway.login("admin@example.org", "admin-password-123")
