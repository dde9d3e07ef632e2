"""Rate limits (429 + Retry-After), stricter login and export limits, payload limits, and
login failures that do not tell which emails have accounts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from convene_gateway.bootstrap import bootstrap
from convene_gateway.main import create_app
from convene_gateway.ratelimit.buckets import BucketStore
from convene_gateway.ratelimit.config import Limit, RateLimits
from tests.conftest import FreshDatabase
from tests.gateway.conftest import EmailsSent, Gateway, SeenByProfiles, gateway_settings
from tests.security.harness import Suite

SMALL = RateLimits(
    per_client=Limit(burst=1000, per_minute=1000),
    per_principal=Limit(burst=8, per_minute=1),
    login=Limit(burst=3, per_minute=1),
    registration=Limit(burst=1000, per_minute=1000),
    export=Limit(burst=2, per_minute=1),
)


@pytest.fixture
async def limited(
    database: FreshDatabase, profiles_app: tuple[FastAPI, SeenByProfiles]
) -> AsyncIterator[Gateway]:
    profiles, seen = profiles_app
    sent = EmailsSent()
    app = create_app(
        gateway_settings(database, rate_limits=SMALL),
        profiles_transport=httpx.ASGITransport(app=profiles),
        matcher_transport=sent.transport(),
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield Gateway(client=client, app=app, seen_by_profiles=seen, sent=sent)


def _assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json()["type"].endswith("/rate-limited")


def test_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    bucket = BucketStore(Limit(burst=2, per_minute=60), max_keys=100, clock=lambda: now[0])
    assert bucket.take("k") == 0
    assert bucket.take("k") == 0
    assert bucket.take("k") == 1
    assert bucket.take("other") == 0
    now[0] += 1.0
    assert bucket.take("k") == 0
    assert bucket.take("k") == 1


def test_forgotten_buckets_are_bounded() -> None:
    bucket = BucketStore(Limit(burst=1, per_minute=1), max_keys=100)
    for index in range(1000):
        bucket.take(str(index))
    assert len(bucket) == 100


async def test_login_is_limited_per_client_and_says_nothing_about_accounts(
    limited: Gateway,
) -> None:
    created = await limited.register()
    answers = []
    for username in (created["email"], "nobody@security.example", created["email"]):
        response = await limited.client.post(
            "/v1/auth/token", data={"username": username, "password": "wrong password!"}
        )
        answers.append(response)
    # Known and unknown emails fail alike: same status, headers and problem (less its ids).
    assert {response.status_code for response in answers} == {401}
    bodies = [
        {k: v for k, v in response.json().items() if k not in ("request_id",)}
        for response in answers
    ]
    assert bodies[0] == bodies[1] == bodies[2]
    assert answers[0].headers["WWW-Authenticate"] == answers[1].headers["WWW-Authenticate"]
    # The fourth attempt from this client is limited, whatever the email.
    for username in ("nobody@security.example", created["email"]):
        _assert_limited(
            await limited.client.post(
                "/v1/auth/token", data={"username": username, "password": "wrong password!"}
            )
        )


async def test_requests_are_limited_per_citizen_and_export_more_strictly(
    limited: Gateway,
) -> None:
    _, headers = await limited.citizen()
    # A second token for the same account shares the account's buckets.
    exports = [await limited.client.get("/v1/me/export", headers=headers) for _ in range(3)]
    assert [r.status_code for r in exports[:2]] == [200, 200]
    _assert_limited(exports[2])
    statuses = [(await limited.client.get("/v1/me", headers=headers)).status_code for _ in range(8)]
    assert 429 in statuses
    # Another citizen is not affected.
    _, other = await limited.citizen()
    assert (await limited.client.get("/v1/me", headers=other)).status_code == 200


async def test_requests_are_limited_per_api_key(limited: Gateway, database: FreshDatabase) -> None:
    await bootstrap(
        dsn=database.dsn("gateway"),
        admin_email="admin@security.example",
        admin_password="admin-password-123",
        organisation=None,
        organisation_kind="council",
        scopes=[],
        create_api_key=False,
        hasher=limited.app.state.password_hasher,
    )
    admin_headers = await limited.login("admin@security.example", "admin-password-123")
    organisation = await limited.client.post(
        "/v1/admin/organisations",
        json={"name": "Limited Council", "kind": "council"},
        headers=admin_headers,
    )
    key = await limited.client.post(
        f"/v1/admin/organisations/{organisation.json()['id']}/api-keys",
        json={},
        headers=admin_headers,
    )
    headers = {"X-API-Key": key.json()["api_key"]}
    statuses = [
        (await limited.client.get("/v1/calls", headers=headers)).status_code for _ in range(10)
    ]
    assert statuses[-1] == 429, statuses


def test_oversized_bodies_and_lists_are_refused(suite: Suite) -> None:
    _, headers = suite.citizen()
    huge = suite.client.patch(
        "/v1/me",
        content=b'{"display_name": "' + b"x" * 70_000 + b'"}',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    long_list = suite.client.patch("/v1/me", json={"access_needs": ["x"] * 51}, headers=headers)
    assert long_list.status_code == 422
    long_text = suite.client.post(
        "/v1/me/skills", json={"label": "x" * 201, "level": "can_do"}, headers=headers
    )
    assert long_text.status_code == 422
    nul = suite.client.post(
        "/v1/me/affiliations",
        json={"organisation": "A\u0000B", "kind": "employer"},
        headers=headers,
    )
    assert nul.status_code == 422, nul.text
    assert suite.client.get("/v1/me", headers=headers).status_code == 200


def test_every_v1_operation_documents_429(openapi: dict[str, object]) -> None:
    paths = openapi["paths"]
    assert isinstance(paths, dict)
    for path, operations in paths.items():
        if path.startswith("/v1/"):
            for method, operation in operations.items():
                assert "429" in operation["responses"], f"{method} {path}"
