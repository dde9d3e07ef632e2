"""Errors of the calls domain (problem+json through the shared handler)."""

from __future__ import annotations

from convene_gateway.errors import GatewayError


class InvalidIdempotencyKeyError(GatewayError):
    status = 400
    slug = "invalid-idempotency-key"
