"""The gateway's answers when profiles fails: mapped problems, quickly, never a hang."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
from fastapi import FastAPI

from convene_gateway.main import create_app
from tests.conftest import FreshDatabase
from tests.gateway.conftest import PASSWORD, Gateway, SeenByProfiles, gateway_settings

PROBLEM = "application/problem+json"
Handler = Callable[[httpx.Request], httpx.Response]


class Counting:
    """A MockTransport handler that counts calls and fails in one given way."""

    def __init__(self, failure: Handler) -> None:
        self.calls: list[str] = []
        self._failure = failure

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request.method)
        return self._failure(request)


def refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def time_out(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("read timed out", request=request)


def crash(request: httpx.Request) -> httpx.Response:
    return httpx.Response(500, json={"detail": "secret internals"})


@asynccontextmanager
async def gateway_with(
    database: FreshDatabase, transport: httpx.AsyncBaseTransport, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(gateway_settings(database, **overrides), profiles_transport=transport)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield client


async def _login(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    response = await client.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_unreachable_profiles_is_503_with_retry_after_and_bounded_retries(
    database: FreshDatabase, gateway: Gateway
) -> None:
    created = await gateway.register()
    handler = Counting(refuse)
    async with gateway_with(database, httpx.MockTransport(handler), downstream_retries=2) as client:
        headers = await _login(client, created["email"])
        started = time.monotonic()
        response = await client.get("/v1/me", headers=headers)
        assert time.monotonic() - started < 2
        assert response.status_code == 503
        assert response.headers["content-type"] == PROBLEM
        assert response.headers["retry-after"] == "5"
        assert response.json()["type"].endswith("/downstream-unavailable")
        # GET is idempotent: one try and two retries.
        assert handler.calls == ["GET", "GET", "GET"]

        handler.calls.clear()
        posted = await client.post(
            "/v1/me/skills", headers=headers, json={"label": "Maps", "level": "can_do"}
        )
        assert posted.status_code == 503
        # POST may have reached profiles: never retried.
        assert handler.calls == ["POST"]


async def test_slow_profiles_is_504(database: FreshDatabase, gateway: Gateway) -> None:
    created = await gateway.register()
    handler = Counting(time_out)
    async with gateway_with(database, httpx.MockTransport(handler)) as client:
        headers = await _login(client, created["email"])
        started = time.monotonic()
        response = await client.get("/v1/me/skills", headers=headers)
        assert time.monotonic() - started < 2
        assert response.status_code == 504
        assert response.headers["retry-after"]
        assert response.json()["type"].endswith("/downstream-timeout")
        assert handler.calls == ["GET"]


async def test_a_hanging_profiles_is_cut_off_by_the_read_timeout(
    database: FreshDatabase, gateway: Gateway
) -> None:
    """A real hang (not a simulated exception): the client's own timeout must fire."""
    created = await gateway.register()

    async def hang(scope: Any, receive: Any, send: Any) -> None:
        await anyio.sleep(30)

    # ASGITransport applies no httpx timeouts: the gateway's own deadline must bound the call.
    async with gateway_with(
        database, httpx.ASGITransport(app=hang), downstream_deadline_seconds=0.5
    ) as client:
        headers = await _login(client, created["email"])
        started = time.monotonic()
        response = await client.get("/v1/me", headers=headers)
        elapsed = time.monotonic() - started
        assert response.status_code == 504, response.text
        assert elapsed < 3


async def test_profiles_500_is_502_without_leaking_internals(
    database: FreshDatabase, gateway: Gateway
) -> None:
    created = await gateway.register()
    async with gateway_with(database, httpx.MockTransport(Counting(crash))) as client:
        headers = await _login(client, created["email"])
        response = await client.get("/v1/me", headers=headers)
        assert response.status_code == 502
        assert response.headers["content-type"] == PROBLEM
        assert "secret internals" not in response.text


async def test_profiles_4xx_problems_pass_through(gateway: Gateway) -> None:
    _, headers = await gateway.citizen()
    missing = await gateway.client.delete(
        "/v1/me/skills/00000000-0000-4000-8000-000000000000", headers=headers
    )
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    assert missing.json()["detail"]


async def test_registration_interrupted_after_profiles_created_the_citizen_can_be_retried(
    database: FreshDatabase, gateway: Gateway, profiles_app: tuple[FastAPI, SeenByProfiles]
) -> None:
    """profiles creates the citizen but the answer is lost: a retry must still succeed."""
    real = httpx.ASGITransport(app=profiles_app[0])

    class LoseTheAnswer(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await real.handle_async_request(request)
            await response.aread()
            raise httpx.ReadTimeout("answer lost", request=request)

    body = {"email": "retry@example.org", "password": PASSWORD, "display_name": "Retry"}
    async with gateway_with(database, LoseTheAnswer()) as client:
        first = await client.post("/v1/citizens", json=body)
        assert first.status_code == 504
        # Not usable yet: a half-made registration cannot log in.
        login = await client.post(
            "/v1/auth/token", data={"username": body["email"], "password": PASSWORD}
        )
        assert login.status_code == 401

    retried = await gateway.client.post("/v1/citizens", json=body)
    assert retried.status_code == 201, retried.text
    headers = await gateway.login("retry@example.org")
    me = await gateway.client.get("/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["id"] == retried.json()["id"]
    # Now complete, the email is taken: the same answer as a new registration (no
    # enumeration), but another id that leads nowhere.
    repeated = await gateway.client.post("/v1/citizens", json=body)
    assert repeated.status_code == 201
    assert repeated.json()["id"] != retried.json()["id"]


async def test_registration_failing_before_profiles_leaves_nothing_blocking(
    database: FreshDatabase, gateway: Gateway
) -> None:
    body = {"email": "later@example.org", "password": PASSWORD, "display_name": "Later"}
    async with gateway_with(database, httpx.MockTransport(refuse)) as client:
        assert (await client.post("/v1/citizens", json=body)).status_code == 503
    assert (await gateway.client.post("/v1/citizens", json=body)).status_code == 201


async def test_erasure_failing_in_profiles_keeps_the_account_for_a_retry(
    database: FreshDatabase, gateway: Gateway
) -> None:
    created, headers = await gateway.citizen()
    async with gateway_with(database, httpx.MockTransport(refuse)) as client:
        assert (await client.delete("/v1/me", headers=headers)).status_code == 503
    assert (await gateway.client.get("/v1/me", headers=headers)).status_code == 200
    assert (await gateway.client.delete("/v1/me", headers=headers)).status_code == 204
    assert (await gateway.client.get("/v1/me", headers=headers)).status_code == 401
    assert created["id"]


async def test_readiness_reports_profiles_but_depends_on_the_database(
    database: FreshDatabase, gateway: Gateway
) -> None:
    ready = await gateway.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["components"] == {"database": "ok", "profiles": "ok"}

    async with gateway_with(database, httpx.MockTransport(refuse)) as client:
        degraded = await client.get("/readyz")
        assert degraded.status_code == 200
        assert degraded.json()["components"]["profiles"].startswith("unreachable")

    app = create_app(gateway_settings(database), profiles_transport=httpx.MockTransport(refuse))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        await app.state.pool.close()
        not_ready = await client.get("/readyz")
        assert not_ready.status_code == 503
