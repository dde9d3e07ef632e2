"""The trace exporter is chosen by settings: none (default), console or otlp. The OTLP
exporter is configured here but never contacted (no span is exported)."""

from __future__ import annotations

import json

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

from convene_common.observability.tracing import make_tracer_provider
from convene_profiles.config import ProfilesSettings
from convene_profiles.main import create_app


def processors(provider: object) -> tuple[object, ...]:
    return tuple(provider._active_span_processor._span_processors)  # type: ignore[attr-defined]


def test_none_is_the_default_and_exports_nothing() -> None:
    settings = ProfilesSettings(environment="test")
    assert settings.trace_exporter == "none"
    app = create_app(settings)
    assert processors(app.state.tracer_provider) == ()


def test_console_writes_one_json_span_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    provider = make_tracer_provider(service="profiles", exporter="console")
    (processor,) = processors(provider)
    assert isinstance(processor, SimpleSpanProcessor)
    with provider.get_tracer("test").start_as_current_span("GET /v1/things"):
        pass
    provider.shutdown()
    (line,) = capsys.readouterr().out.strip().splitlines()
    span = json.loads(line)
    assert span["name"] == "GET /v1/things"
    assert span["resource"]["attributes"]["service.name"] == "convene-profiles"


def test_otlp_is_batched_to_the_configured_endpoint() -> None:
    settings = ProfilesSettings(
        environment="test",
        trace_exporter="otlp",
        otlp_traces_endpoint="http://collector.invalid:4318/v1/traces",
    )
    app = create_app(settings)
    (processor,) = processors(app.state.tracer_provider)
    assert isinstance(processor, BatchSpanProcessor)
    exporter = processor._batch_processor._exporter  # type: ignore[attr-defined]
    assert isinstance(exporter, OTLPSpanExporter)
    assert exporter._endpoint == "http://collector.invalid:4318/v1/traces"
    app.state.tracer_provider.shutdown()
