"""Metrics (Prometheus, ``/metrics``) and traces (OpenTelemetry, W3C traceparent) shared by
every service. ``create_service_app`` installs both; services add their own metric sources."""

from convene_common.observability.metrics import (
    MetricSource,
    ServiceMetrics,
    current_metrics,
    gauge,
    observe_stage,
    timed_stage,
)
from convene_common.observability.tracing import trace_event_hooks, trace_headers

__all__ = [
    "MetricSource",
    "ServiceMetrics",
    "current_metrics",
    "gauge",
    "observe_stage",
    "timed_stage",
    "trace_event_hooks",
    "trace_headers",
]
