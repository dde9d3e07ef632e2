"""Gateway tests: the gateway app in-process, talking to the REAL profiles app over ASGI.

Only the downstream's failure modes (refused, timeouts, 500s) use httpx.MockTransport.
"""

from __future__ import annotations

import json
import re
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
class EmailsSent:
    """Account emails the gateway queued (the `gateway` fixture has no matcher: its outbox
    route is the network edge, recorded here; CallsGateway reads the real outbox)."""

    items: list[dict[str, Any]] = field(default_factory=list)

    def transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            if request.method == "POST" and request.url.path == "/v1/notifications/emails":
                self.items.append(json.loads(request.content))
                return httpx.Response(202, json={"delivery_id": str(uuid.uuid4())})
            return httpx.Response(503, json={"title": "no matcher in this test"})

        return httpx.MockTransport(handle)


def token_in(text: str, path: str) -> str:
    """The token of the first link to `path` (e.g. /verify-email) in an email body."""
    match = re.search(re.escape(path) + r"\?token=([A-Za-z0-9_\-%]+)", text)
    assert match is not None, f"no {path} link in: {text}"
    return match.group(1)


@dataclass
class Gateway:
    client: httpx.AsyncClient
    app: FastAPI
    seen_by_profiles: SeenByProfiles
    sent: EmailsSent = field(default_factory=EmailsSent)

    async def emails_to(self, address: str) -> list[dict[str, Any]]:
        """Queued account emails to `address`, oldest first: {kind, subject, text, html}."""
        return [e for e in self.sent.items if e["to"].lower() == address.lower()]

    async def link_token(self, address: str, path: str) -> str:
        """The token in the newest email to `address` that links to `path`."""
        for email in reversed(await self.emails_to(address)):
            if path + "?token=" in email["text"]:
                return token_in(email["text"], path)
        raise AssertionError(f"no email with a {path} link to {address}")

    async def register(
        self,
        *,
        email: str | None = None,
        password: str = PASSWORD,
        name: str = "Ada Citizen",
        verified: bool = True,
    ) -> dict[str, Any]:
        """Registers through HTTP and, unless verified=False, follows the emailed
        verification link (unverified citizens are not matched or invited)."""
        email = email or f"citizen-{uuid.uuid4().hex[:8]}@example.org"
        response = await self.client.post(
            "/v1/citizens", json={"email": email, "password": password, "display_name": name}
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        if verified:
            token = await self.link_token(email, "/verify-email")
            confirmed = await self.client.post("/v1/auth/verify-email", json={"token": token})
            assert confirmed.status_code == 204, confirmed.text
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
    sent = EmailsSent()
    app = create_app(
        gateway_settings(database),
        profiles_transport=httpx.ASGITransport(app=profiles),
        matcher_transport=sent.transport(),
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield Gateway(client=client, app=app, seen_by_profiles=seen, sent=sent)


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


# -- calls: the REAL matcher app in-process, reading the real profiles app's feed --------------
MANCHESTER = (53.4808, -2.2426)


@pytest.fixture(scope="session")
def sentence_model() -> Any:
    """The real local model of the default backend, loaded once per session (stateless)."""
    from tests.conftest import load_served_model

    return load_served_model(threads=2)


@dataclass
class SeenByMatcher:
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)


@pytest.fixture
async def matcher_app(
    database: FreshDatabase,
    profiles_app: tuple[FastAPI, SeenByProfiles],
    sentence_model: Any,
    tmp_path: Any,
) -> AsyncIterator[tuple[FastAPI, SeenByMatcher]]:
    from convene_matcher.config import MatcherSettings
    from convene_matcher.main import create_app as create_matcher_app

    settings = MatcherSettings(
        environment="test",
        database_url=database.dsn("matcher"),
        database_pool_max=4,
        index_dir=tmp_path / "matcher-index",
        profiles_url="http://profiles.test",
        internal_token=INTERNAL_TOKEN,
        # Tests apply the feed step by step (CallsGateway.sync), so results are deterministic.
        feed_enabled=False,
        feed_wait_seconds=0,
    )
    app = create_matcher_app(
        settings,
        profiles_transport=httpx.ASGITransport(app=profiles_app[0]),
        embedding_model=sentence_model,
    )
    seen = SeenByMatcher()

    @app.middleware("http")
    async def record(request: Any, call_next: Callable[[Any], Awaitable[Any]]) -> Any:
        seen.requests.append((request.method, request.url.path, dict(request.headers)))
        return await call_next(request)

    async with app.router.lifespan_context(app):
        yield app, seen


@dataclass
class CallsGateway(Gateway):
    """The gateway over the real profiles and matcher apps, with an admin signed in."""

    matcher_app: FastAPI = field(default=None)  # type: ignore[assignment]
    seen_by_matcher: SeenByMatcher = field(default_factory=SeenByMatcher)
    admin: dict[str, str] = field(default_factory=dict)
    profiles: httpx.AsyncClient = field(default=None)  # type: ignore[assignment]

    async def emails_to(self, address: str) -> list[dict[str, Any]]:
        """Account emails in the real matcher outbox to `address` (not yet sent: the tests
        run no worker), oldest first."""
        async with self.matcher_app.state.pool.acquire() as connection:
            rows = await connection.fetch(
                """SELECT email_kind AS kind, to_address AS to, subject, text_body AS text,
                          html_body AS html
                   FROM account_email WHERE lower(to_address) = lower($1)
                   ORDER BY notification_id""",
                address,
            )
        return [dict(row) for row in rows]

    async def sync(self) -> int:
        """Applies the profiles change feed to the matcher until it is caught up."""
        applied: int = await self.matcher_app.state.feed.catch_up()
        return applied

    async def public_body(
        self, *, name: str | None = None, scopes: tuple[str, ...] = ("calls:read", "calls:write")
    ) -> tuple[str, dict[str, str]]:
        """A new organisation with an API key: (organisation id, X-API-Key headers)."""
        name = name or f"Council {uuid.uuid4().hex[:8]}"
        created = await self.client.post(
            "/v1/admin/organisations", headers=self.admin, json={"name": name, "kind": "council"}
        )
        assert created.status_code == 201, created.text
        organisation_id: str = created.json()["id"]
        return organisation_id, await self.api_key(organisation_id, scopes=scopes)

    async def api_key(
        self, organisation_id: str, *, scopes: tuple[str, ...] = ("calls:read", "calls:write")
    ) -> dict[str, str]:
        """Another key of an existing organisation: X-API-Key headers."""
        key = await self.client.post(
            f"/v1/admin/organisations/{organisation_id}/api-keys",
            headers=self.admin,
            json={"name": "tests", "scopes": list(scopes)},
        )
        assert key.status_code == 201, key.text
        return {"X-API-Key": key.json()["api_key"]}

    async def seed_citizen(
        self,
        *,
        skills: list[str] = (),  # type: ignore[assignment]
        roles: list[str] = (),  # type: ignore[assignment]
        at: tuple[float, float] = MANCHESTER,
        authority_code: str = "E08000003",
    ) -> str:
        """A citizen written straight into profiles (its internal API), as data to route."""
        citizen_id = str(uuid.uuid4())
        created = await self.profiles.post(
            "/v1/citizens",
            json={
                "id": citizen_id,
                "email": f"c-{citizen_id[:8]}@example.org",
                "display_name": f"Person {citizen_id[:4]}",
            },
        )
        assert created.status_code == 201, created.text
        patched = await self.profiles.patch(
            f"/v1/citizens/{citizen_id}",
            json={
                "place": {"authority_code": authority_code, "lat": at[0], "lon": at[1]},
                "languages": ["en"],
            },
        )
        assert patched.status_code == 200, patched.text
        for label in skills:
            added = await self.profiles.post(
                f"/v1/citizens/{citizen_id}/skills", json={"label": label, "level": "can_do"}
            )
            assert added.status_code == 201, added.text
        for role in roles:
            added = await self.profiles.post(
                f"/v1/citizens/{citizen_id}/roles", json={"role": role}
            )
            assert added.status_code == 201, added.text
        return citizen_id


@pytest.fixture
async def calls_gateway(
    database: FreshDatabase,
    profiles_app: tuple[FastAPI, SeenByProfiles],
    matcher_app: tuple[FastAPI, SeenByMatcher],
) -> AsyncIterator[CallsGateway]:
    from convene_gateway.bootstrap import bootstrap

    profiles, seen = profiles_app
    matcher, seen_by_matcher = matcher_app
    app = create_app(
        gateway_settings(database),
        profiles_transport=httpx.ASGITransport(app=profiles),
        matcher_transport=httpx.ASGITransport(app=matcher),
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=profiles),
            base_url="http://profiles.test",
            headers={"X-Internal-Token": INTERNAL_TOKEN},
        ) as profiles_client,
    ):
        running = CallsGateway(
            client=client,
            app=app,
            seen_by_profiles=seen,
            matcher_app=matcher,
            seen_by_matcher=seen_by_matcher,
            profiles=profiles_client,
        )
        await bootstrap(
            dsn=database.dsn("gateway"),
            admin_email="admin@example.org",
            admin_password="admin-password-123",
            organisation=None,
            organisation_kind="council",
            scopes=[],
            create_api_key=False,
            hasher=app.state.password_hasher,
        )
        running.admin = await running.login("admin@example.org", "admin-password-123")
        yield running
