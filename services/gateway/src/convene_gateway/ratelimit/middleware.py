"""Rate limiting before routing, so a rejected request costs no database or downstream call.

Every /v1 request takes a token from its client address's bucket and, when it carries a
well-formed credential, from its principal's bucket: a verified bearer token counts against
its account (not the token, so signing in again does not reset it) and an API key against a
hash of the key (an invalid key is bounded by the client bucket and then refused by the
route). Login, registration and export have stricter buckets of their own. A limited request
is answered 429 problem+json with Retry-After. The buckets are shared by every gateway
replica (ratelimit/limiter.py): one statement per request takes all of its tokens.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from fastapi import FastAPI
from starlette.middleware import Middleware

from convene_common.logging import ASGIApp, Receive, RequestIdMiddleware, Scope, Send
from convene_common.observability import current_metrics
from convene_common.problems import PROBLEM_MEDIA_TYPE, Problem, problem_response
from convene_gateway.auth.tokens import InvalidTokenError, decode_access_token_once
from convene_gateway.config import GatewaySettings
from convene_gateway.organisations.keys import parse_key
from convene_gateway.ratelimit.limiter import RateLimiter, Take

logger = logging.getLogger("convene.gateway.ratelimit")

LIMITED_PREFIX = "/v1/"
LOGIN = ("POST", "/v1/auth/token")
REGISTRATION = ("POST", "/v1/citizens")
EXPORT = ("GET", "/v1/me/export")
ACCOUNT_LINKS = frozenset(
    {
        ("POST", "/v1/auth/verify-email"),
        ("POST", "/v1/auth/password-reset"),
        ("POST", "/v1/auth/password-reset/confirm"),
        ("POST", "/v1/auth/join"),
    }
)


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, settings: GatewaySettings, limiter: RateLimiter) -> None:
        self.app = app
        self._settings = settings
        self._limits = settings.rate_limits
        self._limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(LIMITED_PREFIX):
            await self.app(scope, receive, send)
            return
        wait, bucket = await self._limiter.take(self._takes(scope))
        if wait:
            # The bucket's name only: never the address, key or account.
            logger.info("rate limited", extra={"bucket": bucket, "retry_after_seconds": wait})
            current_metrics().count_rate_limit_refusal(bucket)
            response = problem_response(
                status=429,
                detail=f"Too many requests; retry after {wait} seconds.",
                slug="rate-limited",
                instance=path,
                headers={"Retry-After": str(wait)},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _takes(self, scope: Scope) -> list[Take]:
        """The buckets this request counts against, the client's first."""
        limits = self._limits
        method, path = scope.get("method", ""), scope.get("path", "")
        client = scope.get("client")
        client_key = client[0] if client else "unknown"
        takes = [Take("client", client_key, limits.per_client)]
        if (method, path) == LOGIN:
            takes.append(Take("login", client_key, limits.login))
        elif (method, path) == REGISTRATION:
            takes.append(Take("registration", client_key, limits.registration))
        elif (method, path) in ACCOUNT_LINKS:
            takes.append(Take("account_links", client_key, limits.account_links))
        principal = self._principal(scope)
        if principal is not None:
            if (method, path) == EXPORT:
                takes.append(Take("export", principal, limits.export))
            takes.append(Take("principal", principal, limits.per_principal))
        return takes

    def _principal(self, scope: Scope) -> str | None:
        authorization = api_key = None
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"x-api-key":
                api_key = value.decode("latin-1")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() == "bearer" and token:
                try:
                    claims = decode_access_token_once(
                        token.strip(),
                        settings=self._settings,
                        request_state=scope.setdefault("state", {}),
                    )
                except InvalidTokenError:
                    return None
                return f"account:{claims.account_id}"
        if api_key and parse_key(api_key) is not None:
            return "key:" + hashlib.sha256(api_key.encode()).hexdigest()[:32]
        return None


def too_many_requests_response() -> dict[str, Any]:
    """The OpenAPI response object of a 429 (declared on every /v1 operation)."""
    return {
        "description": "Too Many Requests",
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before retrying.",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
        "content": {PROBLEM_MEDIA_TYPE: {"schema": Problem.model_json_schema()}},
    }


def install_rate_limits(app: FastAPI, settings: GatewaySettings, limiter: RateLimiter) -> None:
    """Adds the middleware just inside the request-id middleware, so a 429 carries a request
    id and gets its access-log line."""
    if not settings.rate_limits.enabled:
        return
    position = next(
        (
            i + 1
            for i, m in enumerate(app.user_middleware)
            if getattr(m, "cls", None) is RequestIdMiddleware
        ),
        0,
    )
    app.user_middleware.insert(
        position, Middleware(RateLimitMiddleware, settings=settings, limiter=limiter)
    )
