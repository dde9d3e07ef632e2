"""Profiles tests: the app on a fresh database, driven through HTTP with its lifespan running."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from convene_profiles.config import ProfilesSettings
from convene_profiles.main import create_app
from tests.conftest import FreshDatabase

MakeSettings = Callable[..., ProfilesSettings]


@pytest.fixture
def make_settings(database: FreshDatabase) -> MakeSettings:
    def make(**overrides: Any) -> ProfilesSettings:
        values: dict[str, Any] = {
            "environment": "test",
            "database_url": database.dsn("profiles"),
            "database_pool_max": 5,
            "erasure_salt": "test-salt",
            "badge_fetch_allowed_hosts": ["127.0.0.1"],
            "badge_fetch_timeout_seconds": 2.0,
        }
        values.update(overrides)
        return ProfilesSettings(**values)

    return make


@pytest.fixture
def settings(make_settings: MakeSettings) -> ProfilesSettings:
    return make_settings()


@pytest.fixture
async def app(settings: ProfilesSettings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        yield http


@pytest.fixture
async def db(database: FreshDatabase) -> AsyncIterator[asyncpg.Connection[Any]]:
    """A direct connection (as the service's role) to look behind the API."""
    connection = await asyncpg.connect(
        database.dsn("profiles"), server_settings={"search_path": "profiles"}
    )
    for type_name in ("json", "jsonb"):
        await connection.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )
    try:
        yield connection
    finally:
        await connection.close()


CreateCitizen = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def create_citizen(client: httpx.AsyncClient) -> CreateCitizen:
    async def create(email: str | None = None, display_name: str = "Ada") -> dict[str, Any]:
        citizen_id = str(uuid.uuid4())
        response = await client.post(
            "/v1/citizens",
            json={
                "id": citizen_id,
                "email": email or f"{citizen_id[:8]}@example.org",
                "display_name": display_name,
            },
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    return create


async def table_counts(connection: asyncpg.Connection[Any]) -> dict[str, int]:
    counts = {}
    for table in (
        "citizen",
        "skill",
        "citizen_role",
        "affiliation",
        "badge",
        "badge_issuer",
        "rating",
        "change",
        "stakeholder_role",
        "erasure_tombstone",
    ):
        counts[table] = await connection.fetchval(f"SELECT count(*) FROM {table}")
    return counts
