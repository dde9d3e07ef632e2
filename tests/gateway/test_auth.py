"""Authentication: login, tokens, roles, API keys, the principal dependencies, bootstrap."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Depends

from convene_gateway.auth.dependencies import require_public_body
from convene_gateway.auth.schemas import PublicBodyPrincipal
from convene_gateway.bootstrap import bootstrap
from tests.conftest import FreshDatabase
from tests.gateway.conftest import JWT_SECRET, PASSWORD, Gateway

PROBLEM = "application/problem+json"


def _comparable(problem: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in problem.items() if k not in ("request_id", "instance")}


async def test_login_failure_is_identical_for_unknown_email_and_wrong_password(
    gateway: Gateway,
) -> None:
    created = await gateway.register()
    wrong_password = await gateway.client.post(
        "/v1/auth/token", data={"username": created["email"], "password": "not the password"}
    )
    unknown_email = await gateway.client.post(
        "/v1/auth/token", data={"username": "nobody@example.org", "password": "not the password"}
    )
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.headers["content-type"] == PROBLEM
    assert _comparable(wrong_password.json()) == _comparable(unknown_email.json())
    assert wrong_password.headers["www-authenticate"] == unknown_email.headers["www-authenticate"]
    assert created["email"] not in wrong_password.text


async def test_login_issues_a_bearer_jwt_with_the_expected_claims(gateway: Gateway) -> None:
    created = await gateway.register()
    response = await gateway.client.post(
        "/v1/auth/token",
        data={"username": created["email"].upper(), "password": PASSWORD},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    claims = jwt.decode(body["access_token"], JWT_SECRET, algorithms=["HS256"], audience="convene")
    assert claims["role"] == "citizen"
    assert set(claims["scopes"]) == {"me:read", "me:write"}
    assert {"sub", "exp", "iat", "jti"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 900


async def test_missing_credentials_get_401_with_a_challenge(gateway: Gateway) -> None:
    for method, path in [("GET", "/v1/me"), ("GET", "/v1/admin/organisations")]:
        response = await gateway.client.request(method, path)
        assert response.status_code == 401, path
        assert response.headers["content-type"] == PROBLEM
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_forged_or_expired_tokens_get_401(gateway: Gateway) -> None:
    _, headers = await gateway.citizen()
    token = headers["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, JWT_SECRET, algorithms=["HS256"], audience="convene")
    forged = jwt.encode({**claims, "role": "admin"}, "another-secret-0123456789abcdef0123")
    expired = jwt.encode(
        {**claims, "exp": int(time.time()) - 10, "iat": int(time.time()) - 100}, JWT_SECRET
    )
    # A correctly signed token claiming a role the account does not have.
    promoted = jwt.encode({**claims, "role": "admin", "scopes": ["admin"]}, JWT_SECRET)
    for bad in (forged, expired, promoted, "not-a-jwt"):
        response = await gateway.client.get(
            "/v1/admin/organisations", headers={"Authorization": f"Bearer {bad}"}
        )
        assert response.status_code == 401, bad
        assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_citizen_token_on_admin_routes_is_403(gateway: Gateway) -> None:
    _, headers = await gateway.citizen()
    for method, path in [
        ("GET", "/v1/admin/organisations"),
        ("POST", "/v1/admin/organisations"),
        ("GET", "/v1/admin/roles"),
        ("GET", "/v1/admin/changes"),
        ("DELETE", f"/v1/admin/api-keys/{uuid.uuid4()}"),
    ]:
        response = await gateway.client.request(
            method, path, headers=headers, json={"name": "X", "kind": "council"}
        )
        assert response.status_code == 403, (method, path, response.text)
        assert response.headers["content-type"] == PROBLEM


async def test_admin_token_on_citizen_routes_is_403(
    gateway: Gateway, admin_headers: dict[str, str]
) -> None:
    response = await gateway.client.get("/v1/me", headers=admin_headers)
    assert response.status_code == 403


def _add_public_body_probe(gateway: Gateway) -> None:
    """A public-body route as the calls routes will declare one, to test the dependency."""
    router = APIRouter()

    @router.get("/v1/probe/calls")
    async def probe(
        body: Annotated[PublicBodyPrincipal, Depends(require_public_body("calls:read"))],
    ) -> dict[str, str]:
        return {"organisation_id": str(body.organisation_id)}

    @router.post("/v1/probe/ratings")
    async def probe_ratings(
        body: Annotated[PublicBodyPrincipal, Depends(require_public_body("ratings:write"))],
    ) -> dict[str, str]:
        return {"organisation_id": str(body.organisation_id)}

    gateway.app.include_router(router)


async def test_api_key_lifecycle(gateway: Gateway, admin_headers: dict[str, str]) -> None:
    _add_public_body_probe(gateway)
    client = gateway.client
    created = await client.post(
        "/v1/admin/organisations",
        json={"name": "Leeds City Council", "kind": "council"},
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    organisation_id = created.json()["id"]
    duplicate = await client.post(
        "/v1/admin/organisations",
        json={"name": "leeds city council", "kind": "council"},
        headers=admin_headers,
    )
    assert duplicate.status_code == 409

    made = await client.post(
        f"/v1/admin/organisations/{organisation_id}/api-keys",
        json={"name": "planning team", "scopes": ["calls:read"]},
        headers=admin_headers,
    )
    assert made.status_code == 201, made.text
    key = made.json()["api_key"]
    assert key.startswith("cvk_")
    assert key[4:12] == made.json()["prefix"]
    assert made.headers["cache-control"] == "no-store"

    listed = await client.get(
        f"/v1/admin/organisations/{organisation_id}/api-keys", headers=admin_headers
    )
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert "api_key" not in item
    assert key not in listed.text
    assert item["last_used_at"] is None

    used = await client.get("/v1/probe/calls", headers={"X-API-Key": key})
    assert used.status_code == 200
    assert used.json() == {"organisation_id": organisation_id}
    listed = await client.get(
        f"/v1/admin/organisations/{organisation_id}/api-keys", headers=admin_headers
    )
    assert listed.json()["items"][0]["last_used_at"] is not None

    # Lacking a scope is 403; a near-miss key is 401; an API key on a citizen route is 403.
    assert (await client.post("/v1/probe/ratings", headers={"X-API-Key": key})).status_code == 403
    tampered = key[:-2] + ("AA" if not key.endswith("AA") else "BB")
    bad = await client.get("/v1/probe/calls", headers={"X-API-Key": tampered})
    assert bad.status_code == 401
    assert "X-API-Key" in bad.headers["www-authenticate"]
    assert (await client.get("/v1/me", headers={"X-API-Key": key})).status_code == 403
    assert (await client.get("/v1/me", headers={"X-API-Key": tampered})).status_code == 401
    assert (await client.get("/v1/probe/calls")).status_code == 401
    # A bearer token on a public-body route is 403.
    assert (await client.get("/v1/probe/calls", headers=admin_headers)).status_code == 403

    revoked = await client.delete(f"/v1/admin/api-keys/{item['id']}", headers=admin_headers)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    after = await client.get("/v1/probe/calls", headers={"X-API-Key": key})
    assert after.status_code == 401
    missing = await client.delete(f"/v1/admin/api-keys/{uuid.uuid4()}", headers=admin_headers)
    assert missing.status_code == 404


async def test_api_key_for_unknown_organisation_is_404(
    gateway: Gateway, admin_headers: dict[str, str]
) -> None:
    response = await gateway.client.post(
        f"/v1/admin/organisations/{uuid.uuid4()}/api-keys", headers=admin_headers
    )
    assert response.status_code == 404


async def test_organisations_are_paginated_by_cursor(
    gateway: Gateway, admin_headers: dict[str, str]
) -> None:
    for index in range(5):
        response = await gateway.client.post(
            "/v1/admin/organisations",
            json={"name": f"Committee {index}", "kind": "committee"},
            headers=admin_headers,
        )
        assert response.status_code == 201
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = await gateway.client.get(
            "/v1/admin/organisations", params=params, headers=admin_headers
        )
        assert page.status_code == 200
        seen += [item["name"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Committee {index}" for index in range(5)]
    broken = await gateway.client.get(
        "/v1/admin/organisations", params={"cursor": "garbage"}, headers=admin_headers
    )
    assert broken.status_code == 400


async def test_bootstrap_is_idempotent_and_resets_the_admin_password(
    database: FreshDatabase, gateway: Gateway
) -> None:
    hasher = gateway.app.state.password_hasher
    common = {
        "dsn": database.dsn("gateway"),
        "admin_email": "root@example.org",
        "organisation": "Department for Testing",
        "organisation_kind": "department",
        "scopes": ["calls:read", "calls:write"],
        "create_api_key": True,
        "hasher": hasher,
    }
    first = await bootstrap(admin_password="first-password-1", **common)
    second = await bootstrap(admin_password="second-password-2", **common)
    assert first["admin_id"] == second["admin_id"]
    assert first["organisation_id"] == second["organisation_id"]
    assert first["api_key"] != second["api_key"]
    old = await gateway.client.post(
        "/v1/auth/token", data={"username": "root@example.org", "password": "first-password-1"}
    )
    assert old.status_code == 401
    await gateway.login("root@example.org", "second-password-2")


def test_bootstrap_cli_prints_json(database: FreshDatabase) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "convene_gateway.bootstrap",
            "--dsn",
            database.dsn("gateway"),
            "--admin-email",
            "cli@example.org",
            "--admin-password",
            "cli-password-123",
            "--organisation",
            "CLI Council",
            "--print-api-key",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    printed = json.loads(completed.stdout)
    assert printed["admin_email"] == "cli@example.org"
    assert uuid.UUID(printed["organisation_id"])
    assert printed["api_key"].startswith("cvk_")


async def test_openapi_declares_the_bearer_scheme_on_citizen_routes(gateway: Gateway) -> None:
    document = (await gateway.client.get("/openapi.json")).json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["BearerToken"]["type"] == "oauth2"
    assert schemes["BearerToken"]["flows"]["password"]["tokenUrl"] == "/v1/auth/token"
    me = document["paths"]["/v1/me"]["get"]
    assert me["security"] == [{"BearerToken": []}]
    assert "401" in me["responses"]
