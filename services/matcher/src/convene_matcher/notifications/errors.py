"""Errors of the notifications domain."""

from __future__ import annotations

from typing import Any

from convene_matcher.errors import MatcherError


class InvalidWebhookUrlError(MatcherError):
    status = 422
    slug = "invalid-webhook-url"

    def __init__(self, reason: str) -> None:
        errors: list[dict[str, Any]] = [{"loc": "url", "msg": reason}]
        super().__init__(f"The webhook URL is not acceptable: {reason}.", extra={"errors": errors})
