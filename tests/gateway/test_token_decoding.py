"""A bearer token is decoded once per request: the rate limiter's decode serves authentication."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from convene_gateway.auth.tokens import (
    InvalidTokenError,
    decode_access_token_once,
    issue_access_token,
)
from convene_gateway.config import GatewaySettings


def settings() -> GatewaySettings:
    return GatewaySettings(environment="test", jwt_secret="s" * 40)


def test_claims_are_reused_within_a_request_and_not_across_tokens() -> None:
    config = settings()
    first = issue_access_token(
        settings=config, account_id=uuid.uuid4(), session_id=uuid.uuid4(), role="citizen"
    )
    second = issue_access_token(
        settings=config, account_id=uuid.uuid4(), session_id=uuid.uuid4(), role="admin"
    )
    state: dict[str, Any] = {}
    claims = decode_access_token_once(first.access_token, settings=config, request_state=state)
    again = decode_access_token_once(first.access_token, settings=config, request_state=state)
    assert again is claims  # the same object: not decoded a second time
    other = decode_access_token_once(second.access_token, settings=config, request_state=state)
    assert other.account_id != claims.account_id
    assert other.role == "admin"


def test_an_invalid_token_raises_every_time_and_is_not_remembered() -> None:
    config = settings()
    state: dict[str, Any] = {}
    for _ in range(2):
        with pytest.raises(InvalidTokenError):
            decode_access_token_once("not-a-token", settings=config, request_state=state)
    assert state == {}
