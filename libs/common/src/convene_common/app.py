"""The pieces every service app is assembled from."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI

from convene_common.health import ReadinessCheck, health_router
from convene_common.limits import BodySizeLimitMiddleware, RouteLimits
from convene_common.logging import RequestIdMiddleware
from convene_common.problems import install_problem_handlers
from convene_common.settings import ServiceSettings


def create_service_app(
    *,
    title: str,
    settings: ServiceSettings,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[Any]],
    readiness: ReadinessCheck,
    description: str = "",
    version: str = "0.1.0",
    informational_components: frozenset[str] = frozenset(),
    route_body_limits: RouteLimits | None = None,
) -> FastAPI:
    """A FastAPI app with request ids, a body-size limit, problem+json errors and health.

    ``route_body_limits``: routes whose bodies may be larger (or must be smaller) than
    ``settings.max_request_bytes``, by (method, path)."""
    app = FastAPI(title=title, description=description, version=version, lifespan=lifespan)
    app.state.settings = settings
    install_problem_handlers(app)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_request_bytes,
        route_limits=route_body_limits,
    )
    # Added last, so outermost: every log line below it, the size limit included, has an id.
    app.add_middleware(RequestIdMiddleware)
    app.include_router(health_router(readiness, informational=informational_components))
    return app
