"""Settings rules, and the promise that logs carry no personal data."""

from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError

from convene_gateway.config import GatewaySettings
from tests.gateway.conftest import PASSWORD, Gateway


def test_jwt_secret_is_required_outside_development() -> None:
    with pytest.raises(ValidationError, match="jwt_secret must be set"):
        GatewaySettings(environment="production", internal_token="x" * 32)
    with pytest.raises(ValidationError, match="at least 32"):
        GatewaySettings(environment="test", jwt_secret="too-short")
    development = GatewaySettings(environment="development")
    assert len(development.jwt_secret.get_secret_value()) >= 32
    # One generated secret per process, so tokens made by one app are read by another.
    assert GatewaySettings(environment="development").jwt_secret == development.jwt_secret
    assert "s" * 40 not in repr(GatewaySettings(environment="test", jwt_secret="s" * 40))


def test_defaults_match_the_suite_layout() -> None:
    settings = GatewaySettings(environment="development")
    assert settings.port == 8000
    assert settings.profiles_url == "http://127.0.0.1:8001"
    assert settings.matcher_url == "http://127.0.0.1:8002"
    assert settings.database_schema == "gateway"


async def test_unknown_email_costs_a_password_verification(gateway: Gateway) -> None:
    hasher = gateway.app.state.password_hasher
    calls: list[str] = []
    original = hasher.verify

    async def counting_verify(password_hash: str, password: str) -> bool:
        calls.append(password_hash)
        return bool(await original(password_hash, password))

    hasher.verify = counting_verify
    response = await gateway.client.post(
        "/v1/auth/token", data={"username": "ghost@example.org", "password": PASSWORD}
    )
    assert response.status_code == 401
    assert len(calls) == 1
    assert calls[0].startswith("$argon2id$")


async def test_logs_carry_no_emails_passwords_or_tokens(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    email = "private.person@example.org"
    created, headers = await gateway.citizen(email=email, name="Private Person")
    await gateway.client.post(
        "/v1/auth/token", data={"username": email, "password": "wrong password!"}
    )
    await gateway.client.get("/v1/me", headers=headers)
    await gateway.client.delete("/v1/me", headers=headers)
    assert caplog.records, "expected some log records"
    text = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    token = headers["Authorization"].removeprefix("Bearer ")
    for secret in (email, "Private Person", PASSWORD, token):
        assert secret not in text
    assert created["id"]
