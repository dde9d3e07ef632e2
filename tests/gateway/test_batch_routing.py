"""Routing batches through the gateway, over the real matcher and profiles apps in-process."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from convene_matcher.routing.dependencies import DEVELOPMENT_REF_SECRET
from convene_matcher.routing.refs import candidate_ref
from tests.gateway.conftest import CallsGateway

PROBLEM = "application/problem+json"


def ref(call_id: str, citizen_id: str) -> str:
    return candidate_ref(
        secret=DEVELOPMENT_REF_SECRET, call_id=uuid.UUID(call_id), citizen_id=citizen_id
    )


def call(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": title,
        "description": title,
        "deadline": (datetime.now(UTC) + timedelta(days=10)).isoformat(),
        "panel_size": 1,
        **extra,
    }


@pytest.fixture
async def people(calls_gateway: CallsGateway) -> dict[str, str]:
    g = calls_gateway
    crowd = {
        "expert": await g.seed_citizen(skills=["Urban planning", "Cycle lane design"]),
        "planner": await g.seed_citizen(skills=["Urban planning", "Street design"]),
        "cyclist": await g.seed_citizen(skills=["Commuting by bicycle"], roles=["cyclist"]),
    }
    capped = await g.profiles.patch(
        f"/v1/citizens/{crowd['expert']}",
        json={
            "availability": {
                "max_invitations_per_month": 1,
                "hours_per_month": 10,
                "unavailable": [],
            }
        },
    )
    assert capped.status_code == 200, capped.text
    assert await g.sync() > 0
    return crowd


async def post_call(g: CallsGateway, headers: dict[str, str], body: dict[str, Any]) -> str:
    response = await g.client.post("/v1/calls", headers=headers, json=body)
    assert response.status_code == 201, response.text
    call_id: str = response.json()["id"]
    return call_id


async def exposure_rows(g: CallsGateway) -> int:
    async with g.matcher_app.state.pool.acquire() as connection:
        count: int = await connection.fetchval("SELECT count(*) FROM exposure")
    return count


async def test_admin_batches_calls_under_the_monthly_cap_and_reads_it_back(
    calls_gateway: CallsGateway, people: dict[str, str]
) -> None:
    g = calls_gateway
    _, body_key = await g.public_body()
    planning = await post_call(g, body_key, call("Planning streets"))
    lanes = await post_call(g, body_key, call("Cycle lane design"))
    before = await exposure_rows(g)

    created = await g.client.post(
        "/v1/admin/routing-batches", headers=g.admin, json={"call_ids": [planning, lanes]}
    )
    assert created.status_code == 201, created.text
    batch = created.json()
    assert [c["call_id"] for c in batch["calls"]] == [planning, lanes]
    seated = [
        m["ref"] == ref(c["call_id"], people["expert"]) for c in batch["calls"] for m in c["panel"]
    ]
    assert sum(seated) == 1  # capped at one invitation this month: one panel, not two
    assert batch["seats"] == 2
    assert batch["cap_violations"] == 0
    assert batch["total_score"] >= batch["sequential_total_score"] - 1e-9
    assert batch["requested_by"].startswith("admin:")
    assert batch["solve_ms"] >= 0
    assert batch["method"] in {"flow", "flow+cpsat", "cpsat"}
    assert await exposure_rows(g) == before  # nothing sent

    read = await g.client.get(f"/v1/admin/routing-batches/{batch['id']}", headers=g.admin)
    assert read.status_code == 200
    assert read.json() == batch


async def test_a_body_batches_its_own_open_calls_only(
    calls_gateway: CallsGateway, people: dict[str, str]
) -> None:
    g = calls_gateway
    body_id, key = await g.public_body()
    _, other_key = await g.public_body()
    mine = [
        await post_call(g, key, call("Planning streets")),
        await post_call(
            g,
            key,
            call(
                "Cycle lane design",
                panel_size=2,
                perspectives=[{"role": "cyclist", "min": 2, "max": 2}],
            ),
        ),
    ]
    theirs = await post_call(g, other_key, call("Urban planning"))

    created = await g.client.post("/v1/calls/routing-batches", headers=key)
    assert created.status_code == 201, created.text
    batch = created.json()
    assert batch["public_body_id"] == body_id
    assert [c["call_id"] for c in batch["calls"]] == mine
    assert batch["calls"][1]["unmet"] == [{"role": "cyclist", "wanted": 2, "found": 1}]

    own = await g.client.get(f"/v1/calls/routing-batches/{batch['id']}", headers=key)
    assert own.status_code == 200
    assert own.json() == batch
    other = await g.client.get(f"/v1/calls/routing-batches/{batch['id']}", headers=other_key)
    assert other.status_code == 404
    assert other.headers["content-type"] == PROBLEM
    admin = await g.client.get(f"/v1/admin/routing-batches/{batch['id']}", headers=g.admin)
    assert admin.status_code == 200

    # Another body's call among "your" call ids is as unknown as a missing one.
    foreign = await g.client.post(
        "/v1/calls/routing-batches", headers=key, json={"call_ids": [mine[0], theirs]}
    )
    assert foreign.status_code == 404, foreign.text
    assert foreign.headers["content-type"] == PROBLEM


async def test_batch_routes_check_who_asks_and_what_they_send(
    calls_gateway: CallsGateway, people: dict[str, str]
) -> None:
    g = calls_gateway
    _, key = await g.public_body()
    _, reader = await g.public_body(scopes=("calls:read",))
    call_id = await post_call(g, key, call("Planning streets"))

    assert (
        await g.client.post("/v1/admin/routing-batches", json={"call_ids": [call_id]})
    ).status_code == 401
    as_body = await g.client.post(
        "/v1/admin/routing-batches", headers=key, json={"call_ids": [call_id]}
    )
    assert as_body.status_code in {401, 403}
    assert (await g.client.post("/v1/calls/routing-batches", headers=reader)).status_code == 403
    bad_bodies = [
        {},
        {"call_ids": [call_id], "open_calls": True, "public_body_id": str(uuid.uuid4())},
        {"call_ids": [call_id], "surprise": True},
        {"call_ids": [call_id], "time_limit_seconds": 3600},
        {"open_calls": True},
    ]
    for body in bad_bodies:
        response = await g.client.post("/v1/admin/routing-batches", headers=g.admin, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == PROBLEM
    extra = await g.client.post(
        "/v1/calls/routing-batches", headers=key, json={"public_body_id": str(uuid.uuid4())}
    )
    assert extra.status_code == 422
    missing = await g.client.get(f"/v1/admin/routing-batches/{uuid.uuid4()}", headers=g.admin)
    assert missing.status_code == 404
