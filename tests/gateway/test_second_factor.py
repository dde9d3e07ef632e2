"""Admins' second factor (TOTP, recovery codes) and the per-account brakes on guessing."""

from __future__ import annotations

from typing import Any

import pyotp

from convene_gateway.bootstrap import bootstrap
from tests.conftest import FreshDatabase
from tests.gateway.conftest import PASSWORD, Gateway, gateway_settings

ADMIN = "second.factor@example.org"
ADMIN_PASSWORD = "admin-password-456"
PROBLEM = "application/problem+json"


async def _bootstrap_admin(
    database: FreshDatabase, gateway: Gateway, secret: str | None
) -> dict[str, Any]:
    return await bootstrap(
        dsn=database.dsn("gateway"),
        admin_email=ADMIN,
        admin_password=ADMIN_PASSWORD,
        organisation=None,
        organisation_kind="council",
        scopes=[],
        create_api_key=False,
        hasher=gateway.app.state.password_hasher,
        admin_totp_secret=secret,
    )


async def _token(gateway: Gateway, **form: str) -> Any:
    return await gateway.client.post(
        "/v1/auth/token", data={"username": ADMIN, "password": ADMIN_PASSWORD, **form}
    )


async def test_an_enrolled_admin_needs_a_current_code_used_once(
    database: FreshDatabase, gateway: Gateway
) -> None:
    secret = pyotp.random_base32()
    result = await _bootstrap_admin(database, gateway, secret)
    assert result["admin_totp_secret"] == secret

    missing = await _token(gateway)
    assert missing.status_code == 401
    assert missing.json()["type"].endswith("/second-factor-required")
    wrong = await _token(gateway, totp="000000" if pyotp.TOTP(secret).now() != "000000" else "1")
    assert wrong.status_code == 401
    code = pyotp.TOTP(secret).now()
    ok = await _token(gateway, totp=code)
    assert ok.status_code == 200, ok.text
    assert ok.json()["scope"] == "admin"
    headers = {"Authorization": f"Bearer {ok.json()['access_token']}"}
    assert (await gateway.client.get("/v1/admin/organisations", headers=headers)).status_code == 200
    # The same code again (a replay within its 30 s) is refused.
    assert (await _token(gateway, totp=code)).status_code == 401
    # The refresh keeps the admin scope of a session that passed the factor.
    refreshed = await gateway.client.post(
        "/v1/auth/refresh", data={"refresh_token": ok.json()["refresh_token"]}
    )
    assert refreshed.status_code == 200
    again = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    assert (await gateway.client.get("/v1/admin/organisations", headers=again)).status_code == 200


async def test_admins_must_enrol_where_the_factor_is_required(
    database: FreshDatabase, profiles_app: Any
) -> None:
    """admin_totp_required=True (the default outside development and test): an admin who has
    not enrolled gets a token that can only enrol; enrolment gives an otpauth URI and
    recovery codes; a recovery code works once."""
    import httpx

    from convene_gateway.main import create_app

    app = create_app(
        gateway_settings(database, admin_totp_required=True),
        profiles_transport=httpx.ASGITransport(app=profiles_app[0]),
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        gateway = Gateway(client=client, app=app, seen_by_profiles=profiles_app[1])
        await _bootstrap_admin(database, gateway, None)
        first = await _token(gateway)
        assert first.status_code == 200
        assert first.json()["scope"] == "totp:enrol"
        headers = {"Authorization": f"Bearer {first.json()['access_token']}"}
        assert (await client.get("/v1/admin/organisations", headers=headers)).status_code == 403

        enrolled = await client.post("/v1/auth/totp", headers=headers)
        assert enrolled.status_code == 201, enrolled.text
        body = enrolled.json()
        assert body["otpauth_uri"].startswith("otpauth://totp/")
        assert len(body["recovery_codes"]) == 10
        confirmed = await client.post(
            "/v1/auth/totp/confirm",
            headers=headers,
            json={"code": pyotp.TOTP(body["secret"]).now()},
        )
        assert confirmed.status_code == 204, confirmed.text

        recovery = body["recovery_codes"][0]
        with_recovery = await _token(gateway, totp=recovery)
        assert with_recovery.status_code == 200
        assert with_recovery.json()["scope"] == "admin"
        assert (await _token(gateway, totp=recovery)).status_code == 401
        # Without the factor now: refused.
        assert (await _token(gateway)).status_code == 401
        # Replacing the factor needs a session that passed it.
        assert (await client.post("/v1/auth/totp", headers=headers)).status_code == 403


async def test_sign_in_is_rate_limited_per_account_whatever_the_address(
    database: FreshDatabase, gateway: Gateway, profiles_app: Any
) -> None:
    """The per-address sign-in limit is raised here, so only the per-account brake acts
    (each attempt comes from another client address)."""
    import httpx

    from convene_gateway.main import create_app
    from convene_gateway.ratelimit.config import Limit, RateLimits

    created = await gateway.register()
    lenient = RateLimits(login=Limit(burst=1000, per_minute=1000))
    app = create_app(
        gateway_settings(database, rate_limits=lenient),
        profiles_transport=httpx.ASGITransport(app=profiles_app[0]),
    )
    statuses = []
    async with app.router.lifespan_context(app):
        for attempt in range(12):
            transport = httpx.ASGITransport(app=app, client=(f"10.0.0.{attempt}", 1234))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.post(
                    "/v1/auth/token",
                    data={"username": created["email"], "password": "wrong password!"},
                )
            statuses.append(response.status_code)
        # Even the right password waits now: nothing to learn from guessing faster.
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("10.0.1.1", 1)), base_url="http://t"
        ) as client:
            right = await client.post(
                "/v1/auth/token", data={"username": created["email"], "password": PASSWORD}
            )
            # An address nobody has gets the same brake (it tells nothing).
            unknown = [
                (
                    await client.post(
                        "/v1/auth/token",
                        data={"username": "ghost@example.org", "password": "x" * 10},
                    )
                ).status_code
                for _ in range(11)
            ]
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    assert right.status_code == 429
    assert right.headers["content-type"] == PROBLEM
    assert unknown == [401] * 10 + [429]
