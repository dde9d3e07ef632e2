"""Routing's state on app.state (made in the lifespan)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from convene_matcher.config import MatcherSettings
from convene_matcher.errors import NotReadyError

# Used only when no secret is configured outside production (see MatcherSettings.ref_secret).
DEVELOPMENT_REF_SECRET = b"convene-development-ref-secret"


@dataclass
class RoutingState:
    ref_secret: bytes


def routing_state(request: Request) -> RoutingState:
    state: RoutingState | None = getattr(request.app.state, "routing", None)
    if state is None:
        raise NotReadyError("Routing is still starting; retry shortly.")
    return state


def ref_secret_from(settings: MatcherSettings) -> bytes:
    if settings.ref_secret is not None:
        return settings.ref_secret.get_secret_value().encode()
    if settings.environment == "production":
        raise ValueError("CONVENE_MATCHER_REF_SECRET must be set in production")
    return DEVELOPMENT_REF_SECRET
