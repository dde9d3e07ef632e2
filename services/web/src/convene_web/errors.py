"""The web service's errors. Pages render them as HTML (handlers in main.py), never JSON."""

from __future__ import annotations

from typing import Any


class WebError(Exception):
    status: int = 500

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class GatewayUnavailable(WebError):
    """The gateway (or a service behind it) did not answer usefully: 'service unavailable'."""

    status = 503


class GatewayProblem(WebError):
    """A 4xx problem+json answer from the gateway, kept whole so a form can show its fields."""

    def __init__(
        self,
        *,
        status: int,
        title: str,
        detail: str | None,
        slug: str | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail or title, status=status)
        self.title = title
        self.detail = detail
        self.slug = slug
        self.errors = errors or []

    def fields(self) -> set[str]:
        """The request-body fields a 422 names (`body.email` -> `email`)."""
        named = set()
        for error in self.errors:
            loc = str(error.get("loc", ""))
            parts = loc.split(".")
            if parts and parts[0] == "body" and len(parts) > 1:
                named.add(parts[1])
        return named


class PageNotFound(WebError):
    status = 404


class SignInRequired(WebError):
    """Handled by redirecting to /sign-in (with where to come back to)."""

    status = 401


class NotAllowed(WebError):
    status = 403


class BadCsrfToken(WebError):
    status = 400
