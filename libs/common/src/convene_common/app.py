"""The pieces every service app is assembled from."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI, Response

from convene_common.health import ReadinessCheck, health_router
from convene_common.limits import BodySizeLimitMiddleware, RouteLimits
from convene_common.logging import RequestIdMiddleware
from convene_common.observability.loop import GC_TIMER, watch_loop_lag
from convene_common.observability.metrics import (
    CONTENT_TYPE,
    ServiceMetrics,
    pool_source,
    use_metrics,
)
from convene_common.observability.tracing import ObservabilityMiddleware, make_tracer_provider
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
    service: str | None = None,
    route_body_limits: RouteLimits | None = None,
) -> FastAPI:
    """A FastAPI app with request ids, a body-size limit, problem+json errors, health,
    ``/metrics`` (``app.state.metrics``) and traces (``app.state.tracer_provider``).

    ``service`` names the service in metric labels and traces (default: the title's last
    word, "Convene matcher" -> "matcher"). ``route_body_limits``: routes whose bodies may be
    larger (or must be smaller) than ``settings.max_request_bytes``, by (method, path)."""
    service_name = service or title.split()[-1].lower()
    metrics = ServiceMetrics(service_name)
    tracer_provider = make_tracer_provider(
        service=service_name,
        exporter=settings.trace_exporter,
        otlp_endpoint=settings.otlp_traces_endpoint,
    )

    @asynccontextmanager
    async def observed_lifespan(app: FastAPI) -> AsyncIterator[Any]:
        # Tasks the lifespan starts (the change feed) record into this app's metrics.
        use_metrics(metrics)
        lag_watch = asyncio.get_running_loop().create_task(
            watch_loop_lag(metrics.event_loop_lag.labels(service_name)), name="loop-lag"
        )
        GC_TIMER.add(metrics.observe_gc_pause)
        try:
            async with lifespan(app) as state:
                yield state
        finally:
            GC_TIMER.remove(metrics.observe_gc_pause)
            lag_watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await lag_watch
            tracer_provider.shutdown()

    app = FastAPI(title=title, description=description, version=version, lifespan=observed_lifespan)
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.tracer_provider = tracer_provider
    metrics.add_source(
        "db_pool", pool_source(service_name, lambda: getattr(app.state, "pool", None))
    )
    install_problem_handlers(app)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_request_bytes,
        route_limits=route_body_limits,
    )
    app.add_middleware(RequestIdMiddleware)
    # Added last, so outermost: it times and counts everything, 429s and 413s included.
    app.add_middleware(
        ObservabilityMiddleware,
        metrics=metrics,
        tracer=tracer_provider.get_tracer("convene"),
    )
    app.include_router(health_router(readiness, informational=informational_components))

    async def prometheus_metrics() -> Response:
        return Response(await metrics.render(), media_type=CONTENT_TYPE)

    app.add_api_route(
        "/metrics",
        prometheus_metrics,
        methods=["GET"],
        include_in_schema=False,
        summary="Prometheus metrics",
    )
    return app
