"""Service-to-service calls carry a shared token; public traffic only reaches the gateway."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from fastapi import Request

from convene_common.problems import ServiceError

INTERNAL_TOKEN_HEADER = "X-Internal-Token"


class InternalAuthError(ServiceError):
    status = 401
    slug = "internal-token-required"


def require_internal_token(expected: str | None) -> Callable[[Request], Awaitable[None]]:
    """A dependency that checks X-Internal-Token when a token is configured."""

    async def check(request: Request) -> None:
        if expected is None:
            return
        given = request.headers.get(INTERNAL_TOKEN_HEADER, "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise InternalAuthError("This service only answers calls from other Convene services.")

    return check
