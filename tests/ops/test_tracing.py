"""Traces: W3C traceparent carries one trace from the gateway to the matcher to profiles.

The three real apps run in-process (as tests/gateway wires them); each keeps its own tracer
provider, here with an in-memory exporter added. Routing a call reaches the matcher only (it
routes from its own index, fed by the change feed), so the three-service path is shown on the
rating of a contribution, which the matcher forwards to the profiles ledger.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from convene_common.observability.tracing import add_span_processor
from tests.gateway.conftest import CallsGateway
from tests.gateway.test_invitations import call_body, signed_in_cyclist
from tests.ops.test_metrics import _profiles_app

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def record_spans(*apps: FastAPI) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    for app in apps:
        add_span_processor(app.state.tracer_provider, SimpleSpanProcessor(exporter))
    return exporter


def service_of(span: ReadableSpan) -> str:
    return str(span.resource.attributes["service.name"])


def server_spans(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name == name]


@pytest.fixture
def spans(calls_gateway: CallsGateway) -> InMemorySpanExporter:
    g = calls_gateway
    return record_spans(g.app, g.matcher_app, _profiles_app(g))


async def test_a_routed_call_is_one_trace_from_the_gateway_into_the_matcher(
    calls_gateway: CallsGateway, spans: InMemorySpanExporter
) -> None:
    g = calls_gateway
    await g.seed_citizen(skills=["Cycling infrastructure design"], roles=["cyclist"])
    await g.sync()
    _, headers = await g.public_body()
    call = (await g.client.post("/v1/calls", headers=headers, json=call_body())).json()
    spans.clear()
    matched = await g.client.post(f"/v1/calls/{call['id']}/match", headers=headers)
    assert matched.status_code == 200, matched.text

    by_service = {service_of(s): s for s in server_spans(spans, "POST /v1/calls/{call_id}/match")}
    assert set(by_service) == {"convene-gateway", "convene-matcher"}
    gateway_span, matcher_span = by_service["convene-gateway"], by_service["convene-matcher"]
    assert gateway_span.kind == matcher_span.kind == SpanKind.SERVER
    assert gateway_span.parent is None  # the caller sent no traceparent: a new trace
    assert matcher_span.context.trace_id == gateway_span.context.trace_id
    assert matcher_span.parent is not None
    assert matcher_span.parent.span_id == gateway_span.context.span_id
    # The request id stays as it was, and both spans carry it.
    request_id = matched.headers["X-Request-ID"]
    assert gateway_span.attributes["convene.request_id"] == request_id
    assert matcher_span.attributes["convene.request_id"] == request_id
    assert gateway_span.attributes["http.route"] == "/v1/calls/{call_id}/match"
    assert gateway_span.attributes["http.status_code"] == 200


async def test_a_callers_traceparent_is_continued_through_all_three_services(
    calls_gateway: CallsGateway, spans: InMemorySpanExporter
) -> None:
    gw = calls_gateway
    citizen, citizen_headers = await signed_in_cyclist(gw, contact=True)
    await gw.sync()
    _, body_headers = await gw.public_body()
    call = (await gw.client.post("/v1/calls", headers=body_headers, json=call_body())).json()
    assert (await gw.client.post(f"/v1/calls/{call['id']}/match", headers=body_headers)).is_success
    invited = await gw.client.post(f"/v1/calls/{call['id']}/invitations", headers=body_headers)
    assert invited.status_code == 201, invited.text
    (item,) = (await gw.client.get("/v1/me/invitations", headers=citizen_headers)).json()["items"]
    accepted = await gw.client.post(
        f"/v1/me/invitations/{item['id']}/accept", headers=citizen_headers
    )
    assert accepted.status_code == 200, accepted.text
    (ref,) = [i["ref"] for i in invited.json()["items"]]
    submitted = await gw.client.post(
        f"/v1/me/invitations/{item['id']}/contribution",
        headers=citizen_headers,
        json={"comment": "My answer."},
    )
    assert submitted.status_code == 200, submitted.text

    spans.clear()
    rated = await gw.client.post(
        f"/v1/calls/{call['id']}/contributions/{ref}/rating",
        headers={**body_headers, "traceparent": TRACEPARENT},
        json={"rating": 5},
    )
    assert rated.status_code == 201, rated.text

    finished = spans.get_finished_spans()
    services = {service_of(s) for s in finished}
    assert services == {"convene-gateway", "convene-matcher", "convene-profiles"}, finished
    trace_ids = {s.context.trace_id for s in finished}
    assert trace_ids == {int(TRACEPARENT.split("-")[1], 16)}
    # A chain: caller -> gateway -> matcher -> profiles, each span the parent of the next.
    by_service = {service_of(s): s for s in finished}
    gateway_span = by_service["convene-gateway"]
    matcher_span = by_service["convene-matcher"]
    profiles_span = by_service["convene-profiles"]
    assert gateway_span.parent is not None
    assert gateway_span.parent.span_id == int(TRACEPARENT.split("-")[2], 16)
    assert matcher_span.parent is not None
    assert matcher_span.parent.span_id == gateway_span.context.span_id
    assert profiles_span.parent is not None
    assert profiles_span.parent.span_id == matcher_span.context.span_id
    assert citizen["email"] not in str([dict(s.attributes or {}) for s in finished])
