"""The gateway service's one error type, rendered as problem+json by the shared handler."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


class EmailTakenError(ConflictError):
    slug = "email-taken"


class AuthenticationRequiredError(GatewayError):
    """401: no usable credentials. Carries the WWW-Authenticate challenge for the scheme."""

    status = 401
    slug = "authentication-required"

    def __init__(self, detail: str, *, challenge: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class InvalidCredentialsError(AuthenticationRequiredError):
    slug = "invalid-credentials"


class SecondFactorRequiredError(AuthenticationRequiredError):
    """401 after a correct password: this account signs in with a second factor too."""

    slug = "second-factor-required"


class ForbiddenError(GatewayError):
    status = 403
    slug = "forbidden"


class InsufficientScopeError(ForbiddenError):
    slug = "insufficient-scope"


class DownstreamError(GatewayError):
    """A service behind the gateway failed; the gateway answers for it."""

    status = 502
    slug = "bad-gateway"


class DownstreamUnavailableError(DownstreamError):
    status = 503
    slug = "downstream-unavailable"

    def __init__(self, detail: str, *, retry_after_seconds: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_seconds)})


class DownstreamTimeoutError(DownstreamError):
    status = 504
    slug = "downstream-timeout"

    def __init__(self, detail: str, *, retry_after_seconds: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_seconds)})


class DownstreamProblemError(GatewayError):
    """A downstream 4xx passed through with its status, detail and slug."""

    def __init__(
        self, detail: str, *, status: int, slug: str, extra: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(detail, status=status, slug=slug, extra=extra)


class InvalidTokenProblem(GatewayError):
    """400: an emailed single-use token (verification, reset, join) that is unknown, expired
    or already used. One message for all three, so the answer does not say which."""

    status = 400
    slug = "invalid-token"


class TooManyAttemptsError(GatewayError):
    status = 429
    slug = "too-many-attempts"

    def __init__(self, detail: str, *, retry_after_seconds: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_seconds)})
