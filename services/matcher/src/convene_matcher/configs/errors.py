"""Errors of the configs domain (problem+json through the shared handler)."""

from __future__ import annotations

from typing import Any

from convene_matcher.errors import ConflictError, MatcherError


class ConfigValidationError(MatcherError):
    """Settings MatchingConfig (or a sensible bound) refuses; every offending key is named."""

    status = 422
    slug = "invalid-matching-config"

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        keys = ", ".join(f"{e['loc']} ({e['msg']})" for e in errors[:10])
        super().__init__(
            f"The matching configuration is not valid: {keys}", extra={"errors": errors}
        )


class UnknownPreviewCallError(MatcherError):
    """The preview's body names a call that does not exist. The configuration in the path
    does exist, so this is an unprocessable body (422), not a missing resource (404)."""

    status = 422
    slug = "unknown-call"


class NothingToRollBackError(ConflictError):
    slug = "nothing-to-roll-back"
