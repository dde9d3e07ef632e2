"""/metrics on every service: the families exist from the start, and they move when the
product is used (a call created, routed and invited through the gateway, the feed applied,
a login refused by the rate limiter). Scraped through ASGI from the real apps in-process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.gateway.conftest import CallsGateway
from tests.ops.scrape import UUID_LIKE, scrape

COMMON_FAMILIES = {
    "convene_http_requests": "counter",
    "convene_http_request_duration_seconds": "histogram",
    "convene_http_requests_in_flight": "gauge",
    "convene_db_pool_size": "gauge",
    "convene_db_pool_idle": "gauge",
    "convene_db_pool_in_use": "gauge",
    "convene_db_pool_max": "gauge",
    "convene_rate_limit_refusals": "counter",
    "convene_routing_stage_seconds": "histogram",
    "convene_embedding_batch_seconds": "histogram",
    "convene_event_loop_lag_seconds": "histogram",
    "convene_gc_pause_seconds": "histogram",
}
MATCHER_FAMILIES = {
    "convene_feed_applied_sequence": "gauge",
    "convene_feed_head_sequence": "gauge",
    "convene_feed_lag_sequences": "gauge",
    "convene_feed_lag_seconds": "gauge",
    "convene_feed_consecutive_errors": "gauge",
    "convene_index_vectors": "gauge",
    "convene_index_tombstones": "gauge",
    "convene_embedding_queue_length": "gauge",
    "convene_embedding_cache_entries": "gauge",
    "convene_outbox_depth": "gauge",
    "convene_notification_dead_letters": "gauge",
    "convene_notifications": "gauge",
    "convene_invitations_sent": "counter",
}
MATCH_ROUTE = "/v1/calls/{call_id}/match"


def bike_lane_call() -> dict[str, Any]:
    return {
        "title": "Protected bike lanes on Oxford Road",
        "description": "Segregated cycle lanes on Oxford Road: how do you cycle the route?",
        "skills": [{"label": "cycling infrastructure design"}],
        "hours": 3,
        "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "panel_size": 2,
    }


async def test_every_service_serves_its_metric_families(calls_gateway: CallsGateway) -> None:
    g = calls_gateway
    apps = {"gateway": g.app, "matcher": g.matcher_app, "profiles": _profiles_app(g)}
    for service, app in apps.items():
        scraped = await scrape(app)
        expected = dict(COMMON_FAMILIES)
        if service == "matcher":
            expected |= MATCHER_FAMILIES
        for name, kind in expected.items():
            assert scraped.families.get(name) == kind, (service, name, scraped.families.get(name))
        # The pool exists (lifespan ran) and reports its size.
        assert scraped.value("convene_db_pool_max", service=service) >= 1, service
        assert "/metrics" not in (app.openapi().get("paths") or {}), service


async def test_event_loop_lag_and_gc_pauses_are_measured(calls_gateway: CallsGateway) -> None:
    """The lag watch wakes every 100 ms; a loop held for 400 ms shows as a wake-up at least
    300 ms late."""
    import asyncio
    import gc
    import time

    app = calls_gateway.app
    before = await scrape(app)
    lag_count = "convene_event_loop_lag_seconds_count"
    within_100ms = {"service": "gateway", "le": "0.1"}
    await asyncio.sleep(0.25)
    time.sleep(0.4)  # holds the loop, as a blocking call in a route would
    await asyncio.sleep(0.25)
    gc.collect()
    after = await scrape(app)
    assert after.value(lag_count, service="gateway") > before.value(lag_count, service="gateway")
    # The held loop: a wake-up later than 100 ms (the count above the 0.1 s bucket grew).
    late = after.value(lag_count, service="gateway") - after.value(
        "convene_event_loop_lag_seconds_bucket", **within_100ms
    )
    late_before = before.value(lag_count, service="gateway") - before.value(
        "convene_event_loop_lag_seconds_bucket", **within_100ms
    )
    assert late > late_before
    gc_count = "convene_gc_pause_seconds_count"
    assert after.value(gc_count, service="gateway", generation="2") > before.value(
        gc_count, service="gateway", generation="2"
    )


async def test_metrics_move_when_a_call_is_routed_and_invited(
    calls_gateway: CallsGateway,
) -> None:
    g = calls_gateway
    for _ in range(3):
        await g.seed_citizen(skills=["Cycling infrastructure design"], roles=["cyclist"])
    before_gateway = await scrape(g.app)
    before_matcher = await scrape(g.matcher_app)
    before_profiles = await scrape(_profiles_app(g))

    assert await g.sync() > 0
    _, headers = await g.public_body()
    call = await g.client.post("/v1/calls", headers=headers, json=bike_lane_call())
    assert call.status_code == 201, call.text
    call_id = call.json()["id"]
    matched = await g.client.post(f"/v1/calls/{call_id}/match", headers=headers)
    assert matched.status_code == 200, matched.text
    invited = await g.client.post(
        f"/v1/calls/{call_id}/invitations", headers={**headers, "Idempotency-Key": "m1"}
    )
    assert invited.status_code == 201, invited.text
    assert (await g.client.get(f"/v1/calls/{call_id}/nowhere", headers=headers)).status_code == 404

    gateway = await scrape(g.app)
    matcher = await scrape(g.matcher_app)
    profiles = await scrape(_profiles_app(g))

    # Requests by route template and status, never by raw path.
    labels = {"service": "gateway", "method": "POST", "route": MATCH_ROUTE, "status": "200"}
    assert gateway.value("convene_http_requests_total", **labels) == (
        before_gateway.value("convene_http_requests_total", **labels) + 1
    )
    assert gateway.value("convene_http_request_duration_seconds_count", **labels) == 1
    assert gateway.value("convene_http_request_duration_seconds_sum", **labels) > 0
    assert gateway.value("convene_http_requests_total", route="unmatched", status="404") >= 1
    matcher_route = {"service": "matcher", "route": MATCH_ROUTE, "status": "200"}
    assert matcher.value("convene_http_requests_total", **matcher_route) == 1
    # The change feed was served by profiles and applied by the matcher.
    assert profiles.value("convene_http_requests_total", service="profiles") > (
        before_profiles.value("convene_http_requests_total", service="profiles")
    )
    assert matcher.value("convene_feed_applied_sequence") > before_matcher.value(
        "convene_feed_applied_sequence"
    )
    assert matcher.value("convene_feed_lag_sequences") == 0
    assert matcher.value("convene_feed_lag_seconds") == 0
    # One vector per distinct text: the skill and the role the three citizens share.
    assert before_matcher.value("convene_index_vectors", kind="exact") == 0
    assert matcher.value("convene_index_vectors", kind="exact") == 2
    # Routing stages, and the model's batches (the call text was new).
    for stage in ("embed", "engine", "total"):
        assert (
            matcher.value("convene_routing_stage_seconds_count", service="matcher", stage=stage)
            == 1
        ), stage
    assert matcher.value("convene_embedding_batch_seconds_count") > before_matcher.value(
        "convene_embedding_batch_seconds_count"
    )
    assert matcher.value("convene_embedding_texts_total") > 0
    assert matcher.value("convene_embedding_queue_length") == 0
    # Invitations and their outbox rows (the worker is not running: they wait).
    sent = len(invited.json()["items"])
    assert sent >= 1
    assert matcher.value("convene_invitations_sent_total") == sent
    assert matcher.value("convene_outbox_depth", channel="email") >= sent
    assert matcher.value("convene_notification_dead_letters", channel="email") == 0
    # Pools report use (none is held between requests).
    assert matcher.value("convene_db_pool_in_use", service="matcher") == 0
    assert matcher.value("convene_db_pool_size", service="matcher") >= 1

    # No personal data or ids in any label.
    for scraped in (gateway, matcher, profiles):
        for value in scraped.label_values():
            assert not UUID_LIKE.search(value), value
            assert "@" not in value, value
            assert call_id not in value


async def test_rate_limit_refusals_are_counted_by_bucket(calls_gateway: CallsGateway) -> None:
    g = calls_gateway
    before = await scrape(g.app)
    statuses = []
    for _ in range(12):  # the login bucket holds 10
        response = await g.client.post(
            "/v1/auth/token", data={"username": "nobody@example.org", "password": "wrong-pass"}
        )
        statuses.append(response.status_code)
    refused = statuses.count(429)
    assert refused >= 1, statuses
    after = await scrape(g.app)
    assert after.value("convene_rate_limit_refusals_total", bucket="login") == (
        before.value("convene_rate_limit_refusals_total", bucket="login") + refused
    )
    assert after.value(
        "convene_http_requests_total", route="unmatched", status="429"
    ) + after.value("convene_http_requests_total", route="/v1/auth/token", status="429") == (
        refused
    )


def _profiles_app(g: CallsGateway) -> Any:
    transport = g.profiles._transport  # the ASGI transport over the real profiles app
    return transport.app  # type: ignore[attr-defined]
