"""A citizen's account lifecycle through HTTP: verification by the emailed link (unverified
citizens are not matchable), password reset and change (every old session ends), the same
answers for known and unknown addresses, and refused tokens that do not say why."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.gateway.conftest import INTERNAL_TOKEN, PASSWORD, Gateway

PROBLEM = "application/problem+json"
NEW_PASSWORD = "a brand new passphrase"


async def _consent_in_feed(profiles_app: Any, citizen_id: str) -> dict[str, Any]:
    """The newest change-feed snapshot's consent for the citizen (what the matcher sees)."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=profiles_app[0]),
        base_url="http://profiles.test",
        headers={"X-Internal-Token": INTERNAL_TOKEN},
    ) as profiles:
        changes = (await profiles.get("/v1/changes", params={"limit": 1000})).json()["items"]
    mine = [c for c in changes if c["citizen_id"] == citizen_id and c["snapshot"]]
    consent: dict[str, Any] = mine[-1]["snapshot"]["consent"]
    return consent


async def _sign_in(gateway: Gateway, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = await gateway.client.post(
        "/v1/auth/token", data={"username": email, "password": password}
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def _bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def _problem(response: httpx.Response) -> dict[str, Any]:
    return {k: v for k, v in response.json().items() if k in ("type", "title", "detail", "status")}


async def test_a_new_citizen_is_not_matchable_until_the_emailed_link_is_followed(
    gateway: Gateway, profiles_app: Any
) -> None:
    created = await gateway.register(verified=False)
    (email,) = await gateway.emails_to(created["email"])
    assert email["kind"] == "verify_email"
    assert "/verify-email?token=" in email["text"]
    assert "/verify-email?token=" in email["html"]
    assert email["text"].startswith("Please confirm")
    # A profile can be built, but the feed says: not matchable, not contactable.
    tokens = await _sign_in(gateway, created["email"])
    assert (await gateway.client.get("/v1/me", headers=_bearer(tokens))).status_code == 200
    assert await _consent_in_feed(profiles_app, created["id"]) == {
        "matching": False,
        "contact": False,
    }

    token = await gateway.link_token(created["email"], "/verify-email")
    verified = await gateway.client.post("/v1/auth/verify-email", json={"token": token})
    assert verified.status_code == 204, verified.text
    assert (await _consent_in_feed(profiles_app, created["id"]))["matching"] is True

    # Single use: the same link again is refused, like a forged one, with one answer.
    again = await gateway.client.post("/v1/auth/verify-email", json={"token": token})
    forged = await gateway.client.post("/v1/auth/verify-email", json={"token": "cvt_" + "x" * 43})
    nonsense = await gateway.client.post("/v1/auth/verify-email", json={"token": "nonsense"})
    assert again.status_code == forged.status_code == nonsense.status_code == 400
    assert again.headers["content-type"] == PROBLEM
    assert _problem(again) == _problem(forged) == _problem(nonsense)


async def test_resending_the_verification_link_is_rate_limited(gateway: Gateway) -> None:
    created = await gateway.register(verified=False)
    tokens = await _sign_in(gateway, created["email"])
    statuses = [
        (
            await gateway.client.post("/v1/auth/verify-email/resend", headers=_bearer(tokens))
        ).status_code
        for _ in range(6)
    ]
    # Registration sent one; four more are allowed within the hour (5 an hour), then 429.
    assert statuses == [202, 202, 202, 202, 429, 429]
    assert len(await gateway.emails_to(created["email"])) == 5


async def test_password_reset_by_email_ends_every_old_session(gateway: Gateway) -> None:
    created = await gateway.register()
    laptop = await _sign_in(gateway, created["email"])
    phone = await _sign_in(gateway, created["email"])

    asked = await gateway.client.post(
        "/v1/auth/password-reset", json={"email": created["email"].upper()}
    )
    unknown = await gateway.client.post(
        "/v1/auth/password-reset", json={"email": "nobody-here@example.org"}
    )
    assert asked.status_code == unknown.status_code == 202
    assert asked.json() == unknown.json()
    assert await gateway.emails_to("nobody-here@example.org") == []

    token = await gateway.link_token(created["email"], "/reset-password")
    confirmed = await gateway.client.post(
        "/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )
    assert confirmed.status_code == 204, confirmed.text
    for old in (laptop, phone):
        assert (await gateway.client.get("/v1/me", headers=_bearer(old))).status_code == 401
        refreshed = await gateway.client.post(
            "/v1/auth/refresh", data={"refresh_token": old["refresh_token"]}
        )
        assert refreshed.status_code == 401
    old_password = await gateway.client.post(
        "/v1/auth/token", data={"username": created["email"], "password": PASSWORD}
    )
    assert old_password.status_code == 401
    fresh = await _sign_in(gateway, created["email"], NEW_PASSWORD)
    assert (await gateway.client.get("/v1/me", headers=_bearer(fresh))).status_code == 200

    reused = await gateway.client.post(
        "/v1/auth/password-reset/confirm", json={"token": token, "password": "yet another one!"}
    )
    forged = await gateway.client.post(
        "/v1/auth/password-reset/confirm",
        json={"token": "cvt_" + "y" * 43, "password": "yet another one!"},
    )
    assert reused.status_code == forged.status_code == 400
    assert _problem(reused) == _problem(forged)
    # The refused reset changed nothing: the new password still works.
    await _sign_in(gateway, created["email"], NEW_PASSWORD)


async def test_an_expired_reset_link_is_refused_like_a_forged_one(gateway: Gateway) -> None:
    created = await gateway.register()
    await gateway.client.post("/v1/auth/password-reset", json={"email": created["email"]})
    token = await gateway.link_token(created["email"], "/reset-password")
    async with gateway.app.state.pool.acquire() as connection:
        await connection.execute(
            "UPDATE account_token SET expires_at = now() - interval '1 second'"
            " WHERE purpose = 'reset_password'"
        )
    expired = await gateway.client.post(
        "/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )
    forged = await gateway.client.post(
        "/v1/auth/password-reset/confirm",
        json={"token": "cvt_" + "z" * 43, "password": NEW_PASSWORD},
    )
    assert expired.status_code == 400
    assert _problem(expired) == _problem(forged)
    await _sign_in(gateway, created["email"])


async def test_changing_the_password_needs_the_current_one_and_ends_sessions(
    gateway: Gateway,
) -> None:
    created = await gateway.register()
    tokens = await _sign_in(gateway, created["email"])
    other = await _sign_in(gateway, created["email"])
    wrong = await gateway.client.post(
        "/v1/auth/password",
        headers=_bearer(tokens),
        json={"current_password": "not it at all", "new_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 401
    assert (await gateway.client.get("/v1/me", headers=_bearer(other))).status_code == 200
    changed = await gateway.client.post(
        "/v1/auth/password",
        headers=_bearer(tokens),
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 204
    for old in (tokens, other):
        assert (await gateway.client.get("/v1/me", headers=_bearer(old))).status_code == 401
    await _sign_in(gateway, created["email"], NEW_PASSWORD)


async def test_registering_a_taken_address_answers_like_a_new_one(gateway: Gateway) -> None:
    email = f"taken-{uuid.uuid4().hex[:6]}@example.org"
    first = await gateway.register(email=email, verified=False)
    second = await gateway.client.post(
        "/v1/citizens",
        json={"email": email.upper(), "password": "some other password", "display_name": "X"},
    )
    fresh = await gateway.client.post(
        "/v1/citizens",
        json={"email": f"n-{email}", "password": "some other password", "display_name": "X"},
    )
    assert second.status_code == fresh.status_code == 201
    assert set(second.json()) == set(fresh.json())
    assert second.json()["id"] != first["id"]
    # The owner is told; the first account's password is unchanged.
    kinds = [e["kind"] for e in await gateway.emails_to(email)]
    assert kinds == ["verify_email", "already_registered"]
    await _sign_in(gateway, email)


async def test_a_changed_email_takes_effect_once_verified_and_the_old_one_is_told(
    gateway: Gateway,
) -> None:
    created = await gateway.register()
    tokens = await _sign_in(gateway, created["email"])
    new_address = f"moved-{uuid.uuid4().hex[:6]}@example.org"
    asked = await gateway.client.post(
        "/v1/auth/email",
        headers=_bearer(tokens),
        json={"password": PASSWORD, "new_email": new_address},
    )
    assert asked.status_code == 202, asked.text
    assert [e["kind"] for e in await gateway.emails_to(created["email"])][-1] == (
        "email_change_notice"
    )
    # Not yet: the old address still signs in, the new one does not.
    await _sign_in(gateway, created["email"])
    link = await gateway.link_token(new_address, "/verify-email")
    assert (
        await gateway.client.post("/v1/auth/verify-email", json={"token": link})
    ).status_code == 204
    await _sign_in(gateway, new_address)
    me = await gateway.client.get("/v1/me", headers=_bearer(await _sign_in(gateway, new_address)))
    assert me.json()["email"] == new_address
