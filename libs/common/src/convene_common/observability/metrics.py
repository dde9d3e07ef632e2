"""Prometheus metrics for every service: one registry per app, served at ``/metrics``.

Each app owns a ``ServiceMetrics`` (its own ``CollectorRegistry``), so several apps in one
process (the tests wire them so) never mix their numbers. Code that has no handle on its app
(the routing stages, the embedder) records through ``current_metrics()``: the app's
middleware and lifespan put the app's metrics in a context variable, which tasks started in
the lifespan (the change feed) inherit.

Labels carry route templates, methods, statuses, stage and bucket names: never a raw path,
an id, an address or anything typed by a person.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from convene_common.observability.loop import GC_BUCKETS, LAG_BUCKETS

logger = logging.getLogger("convene.metrics")
# The *_created series double every counter's samples and no dashboard or rule here reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Requests: from a cached lookup (~1 ms) to a routed call under load (seconds).
HTTP_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# A scrape must stay cheap and bounded even when the database is slow.
SOURCE_TIMEOUT_SECONDS = 2.0

MetricSource = Callable[[], Awaitable[Iterable[Metric]]]
"""Called at each scrape; returns metric families computed from the app's state or database."""


class _ScrapeTimeCollector(Collector):
    """Holds the families the sources returned for the scrape in progress."""

    def __init__(self) -> None:
        self.families: list[Metric] = []

    def collect(self) -> Iterable[Metric]:
        return list(self.families)


class ServiceMetrics:
    """The metrics of one service app. Every family exists from the start (zero until used),
    so dashboards and alert rules never point at a name that appears only after traffic."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.http_requests = Counter(
            "convene_http_requests_total",
            "HTTP requests served, by route template and status.",
            ["service", "method", "route", "status"],
            registry=registry,
        )
        self.http_duration = Histogram(
            "convene_http_request_duration_seconds",
            "Time to serve an HTTP request, by route template and status.",
            ["service", "method", "route", "status"],
            buckets=HTTP_BUCKETS,
            registry=registry,
        )
        self.http_in_flight = Gauge(
            "convene_http_requests_in_flight",
            "HTTP requests being served now.",
            ["service"],
            registry=registry,
        )
        self.routing_stage = Histogram(
            "convene_routing_stage_seconds",
            "Time spent in each stage of routing a call.",
            ["service", "stage"],
            buckets=STAGE_BUCKETS,
            registry=registry,
        )
        self.embedding_batch = Histogram(
            "convene_embedding_batch_seconds",
            "Time the model takes for one batch of texts (cache misses only).",
            ["service"],
            buckets=STAGE_BUCKETS,
            registry=registry,
        )
        self.embedding_texts = Counter(
            "convene_embedding_texts_total",
            "Texts embedded by the model (cache misses).",
            ["service"],
            registry=registry,
        )
        self.rate_limit_refusals = Counter(
            "convene_rate_limit_refusals_total",
            "Requests refused with 429, by bucket name.",
            ["service", "bucket"],
            registry=registry,
        )
        self.event_loop_lag = Histogram(
            "convene_event_loop_lag_seconds",
            "How late the event loop woke a task that asked to wake every 100 ms: while one "
            "request holds the loop, every other request waits this long.",
            ["service"],
            buckets=LAG_BUCKETS,
            registry=registry,
        )
        self.gc_pause = Histogram(
            "convene_gc_pause_seconds",
            "Garbage-collection pauses of the process, by generation.",
            ["service", "generation"],
            buckets=GC_BUCKETS,
            registry=registry,
        )
        self.scrape_errors = Counter(
            "convene_metrics_source_errors_total",
            "Scrape-time metric sources that failed or timed out.",
            ["service", "source"],
            registry=registry,
        )
        self._sources: list[tuple[str, MetricSource]] = []
        self._scrape_time = _ScrapeTimeCollector()
        registry.register(self._scrape_time)
        self._scrape_lock = asyncio.Lock()
        for bucket in ("client", "principal", "login", "registration", "export"):
            # Present at zero on every service; only the gateway refuses.
            self.rate_limit_refusals.labels(service, bucket)
        self.embedding_batch.labels(service)
        self.embedding_texts.labels(service)
        self.http_in_flight.labels(service)
        self.event_loop_lag.labels(service)
        for generation in ("0", "1", "2"):
            self.gc_pause.labels(service, generation)

    # -- recording ---------------------------------------------------------------------
    def observe_request(self, *, method: str, route: str, status: int, seconds: float) -> None:
        labels = (self.service, method, route, str(status))
        self.http_requests.labels(*labels).inc()
        self.http_duration.labels(*labels).observe(seconds)

    def observe_stage(self, stage: str, seconds: float) -> None:
        self.routing_stage.labels(self.service, stage).observe(seconds)

    def observe_embedding_batch(self, *, seconds: float, texts: int) -> None:
        self.embedding_batch.labels(self.service).observe(seconds)
        self.embedding_texts.labels(self.service).inc(texts)

    def observe_gc_pause(self, generation: str, seconds: float) -> None:
        self.gc_pause.labels(self.service, generation).observe(seconds)

    def count_rate_limit_refusal(self, bucket: str) -> None:
        self.rate_limit_refusals.labels(self.service, bucket).inc()

    # -- scrape-time sources -----------------------------------------------------------
    def add_source(self, name: str, source: MetricSource) -> None:
        """``source`` runs at each scrape (bounded by a timeout); its families are served."""
        self._sources.append((name, source))

    async def render(self) -> bytes:
        async with self._scrape_lock:
            families: list[Metric] = []
            for name, source in self._sources:
                try:
                    async with asyncio.timeout(SOURCE_TIMEOUT_SECONDS):
                        families.extend(await source())
                except Exception as exc:  # a failing source costs its families, not the scrape
                    self.scrape_errors.labels(self.service, name).inc()
                    logger.warning(
                        "metrics source failed",
                        extra={"source": name, "error_type": type(exc).__name__},
                    )
            self._scrape_time.families = families
            try:
                return generate_latest(self.registry)
            finally:
                self._scrape_time.families = []


def gauge(name: str, documentation: str, value: float | None, **labels: str) -> Metric:
    """One gauge family with a single sample (none when ``value`` is None: unknown yet)."""
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    if value is not None:
        family.add_metric(list(labels.values()), value)
    return family


def pool_source(service: str, get_pool: Callable[[], Any]) -> MetricSource:
    """Use of the app's asyncpg pool, read when scraped (None before the lifespan made it)."""

    async def source() -> Iterable[Metric]:
        pool = get_pool()
        if pool is None:
            return []
        size, idle = pool.get_size(), pool.get_idle_size()
        return [
            gauge("convene_db_pool_size", "Connections open in the pool.", size, service=service),
            gauge("convene_db_pool_idle", "Open connections not in use.", idle, service=service),
            gauge(
                "convene_db_pool_in_use",
                "Connections acquired by requests or tasks.",
                size - idle,
                service=service,
            ),
            gauge(
                "convene_db_pool_max",
                "The pool's maximum size.",
                pool.get_max_size(),
                service=service,
            ),
        ]

    return source


# -- the current app's metrics, for code that has no handle on its app ---------------------
_process_metrics = ServiceMetrics("process")
_current: contextvars.ContextVar[ServiceMetrics | None] = contextvars.ContextVar(
    "convene_metrics", default=None
)


def current_metrics() -> ServiceMetrics:
    """The metrics of the app serving this request or task; outside any app (benchmarks,
    scripts), a process-wide registry that nothing serves."""
    return _current.get() or _process_metrics


def use_metrics(metrics: ServiceMetrics) -> contextvars.Token[ServiceMetrics | None]:
    return _current.set(metrics)


def observe_stage(name: str, seconds: float) -> None:
    """Records one routing stage's duration (e.g. "embed", "retrieve", "score", "panel")."""
    current_metrics().observe_stage(name, seconds)


@contextmanager
def timed_stage(name: str) -> Iterator[None]:
    """``with timed_stage("embed"): ...`` records the block's duration as a routing stage."""
    started = time.perf_counter()
    try:
        yield
    finally:
        observe_stage(name, time.perf_counter() - started)
