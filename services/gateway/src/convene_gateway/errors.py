"""The gateway service's one error type, rendered as problem+json by the shared handler."""

from __future__ import annotations

from convene_common.problems import ServiceError


class GatewayError(ServiceError):
    status = 400
    slug = "bad-request"


class NotFoundError(GatewayError):
    status = 404
    slug = "not-found"


class ConflictError(GatewayError):
    status = 409
    slug = "conflict"
