"""Errors of the calls domain (problem+json through the shared handler)."""

from __future__ import annotations

from typing import Any

from convene_matcher.errors import MatcherError


class CallValidationError(MatcherError):
    """A check across fields or against the matcher's state; names the offending field."""

    status = 422
    slug = "validation-error"

    def __init__(self, loc: str, message: str) -> None:
        errors: list[dict[str, Any]] = [{"loc": loc, "msg": message}]
        super().__init__(f"The request is not valid: {loc}: {message}", extra={"errors": errors})


class IdempotencyKeyError(MatcherError):
    status = 400
    slug = "invalid-idempotency-key"


class IdempotencyKeyReusedError(MatcherError):
    # draft-ietf-httpapi-idempotency-key-header: a key reused with another payload is a 422.
    status = 422
    slug = "idempotency-key-reused"
