"""OpenTelemetry traces with W3C ``traceparent`` propagation between the services.

Each app has its own ``TracerProvider`` (resource ``service.name``), so apps wired together in
one process still report as three services. The exporter is chosen by settings:

* ``none`` (default): spans are not recorded (measured: recording them costs ~0.1-0.2 ms of
  CPU per request), but the trace context still propagates downstream; nothing is exported;
* ``console``: one JSON span per line on stdout;
* ``otlp``: OTLP over HTTP to ``otlp_endpoint`` (batched, off the request path).

Incoming ``traceparent``/``tracestate`` headers continue the caller's trace; every outgoing
call made through a client built with ``trace_event_hooks()`` carries the current one. The
request id (X-Request-ID) is unchanged and recorded on each server span.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Mapping
from typing import Any, Literal

import httpx
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
)
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from convene_common.logging import ASGIApp, Message, Receive, Scope, Send
from convene_common.observability.metrics import ServiceMetrics, use_metrics

TraceExporter = Literal["none", "console", "otlp"]
_propagator = TraceContextTextMapPropagator()


class _PrivateRandomIds(IdGenerator):
    """Span and trace ids from a private generator: the SDK's default draws from the global
    ``random`` module, which would disturb anything seeded there (Hypothesis flags it)."""

    def __init__(self) -> None:
        self._random = random.Random(int.from_bytes(os.urandom(16), "big"))

    def generate_span_id(self) -> int:
        return self._random.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        return self._random.getrandbits(128) or 1


class _RecordWhenExporting(Sampler):
    """Records (following the caller's sampled flag) only once a span processor is added."""

    def __init__(self) -> None:
        self.recording = False
        self._on = ParentBased(ALWAYS_ON)

    def should_sample(self, *args: Any, **kwargs: Any) -> SamplingResult:
        return (self._on if self.recording else ALWAYS_OFF).should_sample(*args, **kwargs)

    def get_description(self) -> str:
        return f"RecordWhenExporting({self.recording})"


def add_span_processor(provider: TracerProvider, processor: SpanProcessor) -> None:
    """Adds an exporter's processor and starts recording spans."""
    provider.add_span_processor(processor)
    sampler = provider.sampler
    if isinstance(sampler, _RecordWhenExporting):
        sampler.recording = True


def make_tracer_provider(
    *, service: str, exporter: TraceExporter, otlp_endpoint: str | None = None
) -> TracerProvider:
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"convene-{service}"}),
        sampler=_RecordWhenExporting(),
        id_generator=_PrivateRandomIds(),
    )
    if exporter == "console":
        add_span_processor(
            provider,
            SimpleSpanProcessor(
                ConsoleSpanExporter(
                    out=sys.stdout, formatter=lambda span: span.to_json(indent=None) + "\n"
                )
            ),
        )
    elif exporter == "otlp":
        # Imported only when chosen: the exporter is optional at run time.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        add_span_processor(provider, BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
    return provider


def trace_headers() -> dict[str, str]:
    """``traceparent`` (and ``tracestate``) for the span current in this context, if any."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier


async def _inject_trace_headers(request: httpx.Request) -> None:
    for name, value in trace_headers().items():
        request.headers[name] = value


def trace_event_hooks() -> dict[str, list[Any]]:
    """``httpx.AsyncClient(event_hooks=trace_event_hooks())``: every request carries the
    caller's trace context."""
    return {"request": [_inject_trace_headers]}


def _header_carrier(scope: Scope) -> Mapping[str, str]:
    carrier: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        if name in (b"traceparent", b"tracestate"):
            carrier[name.decode("latin-1")] = value.decode("latin-1")
    return carrier


class ObservabilityMiddleware:
    """Outermost: one server span and one request count/latency sample per HTTP request,
    labelled by route template (``unmatched`` when no route matched), never the raw path."""

    def __init__(self, app: ASGIApp, *, metrics: ServiceMetrics, tracer: trace.Tracer) -> None:
        self.app = app
        self.metrics = metrics
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        metrics_token = use_metrics(self.metrics)
        method: str = scope.get("method", "GET")
        parent = _propagator.extract(carrier=_header_carrier(scope))
        span = self.tracer.start_span(
            method, context=parent, kind=trace.SpanKind.SERVER, attributes={"http.method": method}
        )
        context_token = otel_context.attach(trace.set_span_in_context(span))
        status_holder: dict[str, int] = {}

        async def send_observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                for name, value in message.get("headers", []):
                    if name == b"x-request-id":
                        span.set_attribute("convene.request_id", value.decode("latin-1"))
            await send(message)

        in_flight = self.metrics.http_in_flight.labels(self.metrics.service)
        in_flight.inc()
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_observed)
        except BaseException as exc:
            span.record_exception(exc)
            raise
        finally:
            seconds = time.perf_counter() - started
            in_flight.dec()
            matched = scope.get("route")
            # "/v1/calls/{call_id}/match", converters ("{call_id:uuid}") left out.
            route = getattr(matched, "path_format", None) or getattr(matched, "path", None)
            route = route or "unmatched"
            status = status_holder.get("status", 500)
            self.metrics.observe_request(method=method, route=route, status=status, seconds=seconds)
            span.update_name(f"{method} {route}")
            span.set_attribute("http.route", route)
            span.set_attribute("http.status_code", status)
            if status >= 500:
                span.set_status(trace.Status(trace.StatusCode.ERROR))
            span.end()
            otel_context.detach(context_token)
            metrics_token.var.reset(metrics_token)
