"""Sessions: refresh-token rotation, reuse detection, sign-out, and the revocation bound."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.conftest import FreshDatabase
from tests.gateway.conftest import PASSWORD, Gateway, gateway_settings

PROBLEM = "application/problem+json"


async def _sign_in(gateway: Gateway, email: str) -> dict[str, Any]:
    response = await gateway.client.post(
        "/v1/auth/token", data={"username": email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["refresh_token"].startswith("cvr_")
    assert response.headers["cache-control"] == "no-store"
    return body


def _bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def _refresh(gateway: Gateway, refresh_token: str) -> httpx.Response:
    return await gateway.client.post("/v1/auth/refresh", data={"refresh_token": refresh_token})


async def test_a_refresh_token_rotates_and_the_new_access_token_works(gateway: Gateway) -> None:
    created = await gateway.register()
    tokens = await _sign_in(gateway, created["email"])
    refreshed = await _refresh(gateway, tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    body = refreshed.json()
    assert set(body) >= {"access_token", "refresh_token", "token_type"}
    assert body["token_type"] == "bearer"
    assert body["refresh_token"] != tokens["refresh_token"]
    assert (await gateway.client.get("/v1/me", headers=_bearer(body))).status_code == 200
    # The new one rotates again.
    again = await _refresh(gateway, body["refresh_token"])
    assert again.status_code == 200, again.text


async def test_a_reused_refresh_token_ends_the_whole_family(gateway: Gateway) -> None:
    created = await gateway.register()
    tokens = await _sign_in(gateway, created["email"])
    first = (await _refresh(gateway, tokens["refresh_token"])).json()
    # The thief (or the victim) presents the spent token again.
    reused = await _refresh(gateway, tokens["refresh_token"])
    assert reused.status_code == 401
    assert reused.headers["content-type"] == PROBLEM
    # Every token of that session is dead: the rotated refresh token and both access tokens.
    assert (await _refresh(gateway, first["refresh_token"])).status_code == 401
    for access in (tokens, first):
        assert (await gateway.client.get("/v1/me", headers=_bearer(access))).status_code == 401
    # Another sign-in is unaffected by the family's end.
    fresh = await _sign_in(gateway, created["email"])
    assert (await gateway.client.get("/v1/me", headers=_bearer(fresh))).status_code == 200


async def test_forged_refresh_tokens_get_the_same_401(gateway: Gateway) -> None:
    created = await gateway.register()
    tokens = await _sign_in(gateway, created["email"])
    answers = []
    for forged in ("cvr_" + "A" * 43, "nonsense", tokens["access_token"][:190]):
        response = await _refresh(gateway, forged)
        assert response.status_code == 401, forged
        answers.append({k: v for k, v in response.json().items() if k in ("title", "detail")})
    spent = (await _refresh(gateway, tokens["refresh_token"])).json()
    reused = await _refresh(gateway, tokens["refresh_token"])
    answers.append({k: v for k, v in reused.json().items() if k in ("title", "detail")})
    assert all(answer == answers[0] for answer in answers)
    assert spent["refresh_token"]


async def test_logout_ends_this_session_only(gateway: Gateway) -> None:
    created = await gateway.register()
    laptop = await _sign_in(gateway, created["email"])
    phone = await _sign_in(gateway, created["email"])
    out = await gateway.client.post("/v1/auth/logout", headers=_bearer(laptop))
    assert out.status_code == 204
    assert (await gateway.client.get("/v1/me", headers=_bearer(laptop))).status_code == 401
    assert (await _refresh(gateway, laptop["refresh_token"])).status_code == 401
    assert (await gateway.client.get("/v1/me", headers=_bearer(phone))).status_code == 200


async def test_logout_everywhere_ends_every_session(gateway: Gateway) -> None:
    created = await gateway.register()
    laptop = await _sign_in(gateway, created["email"])
    phone = await _sign_in(gateway, created["email"])
    out = await gateway.client.post("/v1/auth/logout-everywhere", headers=_bearer(phone))
    assert out.status_code == 204
    for tokens in (laptop, phone):
        assert (await gateway.client.get("/v1/me", headers=_bearer(tokens))).status_code == 401
        assert (await _refresh(gateway, tokens["refresh_token"])).status_code == 401


async def test_a_session_revoked_on_another_replica_stops_within_the_cache_bound(
    database: FreshDatabase, gateway: Gateway, profiles_app: Any
) -> None:
    """Two gateway replicas over one database; the second caches live sessions for 1 s (the
    configured bound; the default is 5 s). A logout on the first stops the token on the
    second within that bound, and never later."""
    profiles, _ = profiles_app
    ttl = 1.0
    from convene_gateway.main import create_app

    replica = create_app(
        gateway_settings(database, credential_cache_ttl_seconds=ttl),
        profiles_transport=httpx.ASGITransport(app=profiles),
    )
    created = await gateway.register()
    tokens = await _sign_in(gateway, created["email"])
    async with (
        replica.router.lifespan_context(replica),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=replica), base_url="http://replica"
        ) as second,
    ):
        assert (await second.get("/v1/me", headers=_bearer(tokens))).status_code == 200
        assert (
            await gateway.client.post("/v1/auth/logout", headers=_bearer(tokens))
        ).status_code == 204
        # The first replica refuses at once.
        assert (await gateway.client.get("/v1/me", headers=_bearer(tokens))).status_code == 401
        await asyncio.sleep(ttl + 0.2)
        assert (await second.get("/v1/me", headers=_bearer(tokens))).status_code == 401
