"""Routing batches through the matcher's HTTP API: the real model, PostgreSQL, feed snapshots."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from convene_matcher.citizens.schemas import MatchSnapshot
from convene_matcher.routing.dependencies import DEVELOPMENT_REF_SECRET
from convene_matcher.routing.refs import candidate_ref
from convene_matcher.routing.repository import record_invitation
from tests.matcher.routing.citizens import load, snapshot

BODY = uuid.UUID("00000000-0000-4000-8000-0000000ba7c1")
OTHER_BODY = uuid.UUID("00000000-0000-4000-8000-0000000ba7c2")
NOW = datetime.now(UTC)


def population() -> dict[str, MatchSnapshot]:
    return {
        # Tops both calls (rated 5, verified badges in both topics) but may join one panel.
        "expert": snapshot(
            skills=[("urban planning", "can_do"), ("cycle lane design", "can_do")],
            badges=[("Urban planning", True), ("Cycle lane design", True)],
            rating=5.0,
            max_per_month=1,
        ),
        "planner": snapshot(skills=[("urban planning", "can_do")]),
        "mechanic": snapshot(skills=[("bike maintenance", "can_explain")]),
        "cyclist": snapshot(skills=[("commuting by bicycle", "can_do")], roles=["cyclist"]),
        "used_up": snapshot(
            skills=[("urban planning", "can_do"), ("cycle lane design", "can_do")],
            badges=[("Urban planning", True)],
            rating=5.0,
            max_per_month=2,
        ),
    }


@pytest.fixture
async def people(matcher_app: FastAPI) -> dict[str, MatchSnapshot]:
    crowd = population()
    await load(matcher_app, *crowd.values())
    async with matcher_app.state.pool.acquire() as connection:
        for _ in range(2):  # at its cap of 2 this month: in no panel
            await record_invitation(
                connection,
                citizen_id=crowd["used_up"].citizen_id,
                public_body_id=OTHER_BODY,
                call_id=None,
                invited_at=NOW,
            )
    return crowd


async def post_call(
    matcher: httpx.AsyncClient, *, title: str, body_id: uuid.UUID = BODY, **extra: Any
) -> str:
    response = await matcher.post(
        "/v1/calls",
        json={
            "public_body_id": str(body_id),
            "public_body_name": "Batch Borough Council",
            "title": title,
            "description": title,
            "deadline": (NOW + timedelta(days=14)).isoformat(),
            "panel_size": 1,
            **extra,
        },
    )
    assert response.status_code == 201, response.text
    call_id: str = response.json()["id"]
    return call_id


def ref(call_id: str, person: MatchSnapshot) -> str:
    return candidate_ref(
        secret=DEVELOPMENT_REF_SECRET, call_id=uuid.UUID(call_id), citizen_id=person.citizen_id
    )


async def exposure_rows(app: FastAPI) -> int:
    async with app.state.pool.acquire() as connection:
        count: int = await connection.fetchval("SELECT count(*) FROM exposure")
    return count


async def test_a_popular_expert_goes_to_the_call_that_needs_them_most(
    matcher: httpx.AsyncClient, matcher_app: FastAPI, people: dict[str, MatchSnapshot]
) -> None:
    planning = await post_call(matcher, title="Planning streets")
    lanes = await post_call(matcher, title="Cycle lane design")
    before = await exposure_rows(matcher_app)

    response = await matcher.post(
        "/v1/routing-batches",
        json={"call_ids": [planning, lanes], "requested_by": "admin:test"},
    )
    assert response.status_code == 201, response.text
    batch = response.json()
    panels = {c["call_id"]: [m["ref"] for m in c["panel"]] for c in batch["calls"]}
    # Routed one after another, the first call takes the expert (just above the planner) and
    # the second is left with someone far weaker; together, the planner takes the first and
    # the expert the second.
    assert panels[planning] == [ref(planning, people["planner"])]
    assert panels[lanes] == [ref(lanes, people["expert"])]
    assert batch["total_score"] > batch["sequential_total_score"]
    first, second = batch["calls"]
    assert first["sequential_score"] > first["score"]
    assert second["score"] > second["sequential_score"]
    assert batch["cap_violations"] == 0
    assert batch["seats"] == 2
    everyone = {r for refs in panels.values() for r in refs}
    for call_id in (planning, lanes):
        assert ref(call_id, people["used_up"]) not in everyone
    # Nothing was sent: the exposure ledger is untouched.
    assert await exposure_rows(matcher_app) == before

    again = await matcher.get(f"/v1/routing-batches/{batch['id']}")
    assert again.status_code == 200
    assert again.json() == batch
    other = await matcher.get(
        f"/v1/routing-batches/{batch['id']}", params={"public_body_id": str(OTHER_BODY)}
    )
    assert other.status_code == 404


async def test_a_body_batches_its_own_open_calls_and_quotas_are_reported(
    matcher: httpx.AsyncClient, people: dict[str, MatchSnapshot]
) -> None:
    first = await post_call(matcher, title="Urban planning")
    second = await post_call(
        matcher,
        title="Cycle lane design",
        panel_size=2,
        perspectives=[{"role": "cyclist", "min": 2, "max": 2}],
    )
    await post_call(matcher, title="Someone else's call", body_id=OTHER_BODY)
    response = await matcher.post(
        "/v1/routing-batches",
        json={"public_body_id": str(BODY), "open_calls": True, "requested_by": "body:test"},
    )
    assert response.status_code == 201, response.text
    batch = response.json()
    assert [c["call_id"] for c in batch["calls"]] == [first, second]
    assert batch["public_body_id"] == str(BODY)
    lanes = batch["calls"][1]
    # One cyclist exists: the quota of two is met by one and reported.
    assert lanes["unmet"] == [{"role": "cyclist", "wanted": 2, "found": 1}]
    assert batch["unmet"] == 1
    cyclist = next(m for m in lanes["panel"] if m["ref"] == ref(second, people["cyclist"]))
    assert cyclist["fills"] == ["cyclist"]
    own = await matcher.get(
        f"/v1/routing-batches/{batch['id']}", params={"public_body_id": str(BODY)}
    )
    assert own.status_code == 200


async def test_bad_batches_are_refused_with_problems(
    matcher: httpx.AsyncClient, matcher_app: FastAPI, people: dict[str, MatchSnapshot]
) -> None:
    mine = await post_call(matcher, title="Urban planning")
    theirs = await post_call(matcher, title="Urban planning", body_id=OTHER_BODY)
    cases: list[tuple[dict[str, Any], int]] = [
        ({"requested_by": "x"}, 422),
        (
            {
                "call_ids": [mine],
                "open_calls": True,
                "public_body_id": str(BODY),
                "requested_by": "x",
            },
            422,
        ),
        ({"call_ids": [mine], "requested_by": "x", "surprise": 1}, 422),
        ({"call_ids": [], "requested_by": "x"}, 422),
        ({"call_ids": [str(uuid.uuid4())], "requested_by": "x"}, 404),
        ({"call_ids": [mine, theirs], "public_body_id": str(BODY), "requested_by": "x"}, 404),
    ]
    for body, status in cases:
        response = await matcher.post("/v1/routing-batches", json=body)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    async with matcher_app.state.pool.acquire() as connection:
        await connection.execute("UPDATE call SET status = 'closed' WHERE id = $1", uuid.UUID(mine))
    closed = await matcher.post(
        "/v1/routing-batches", json={"call_ids": [mine], "requested_by": "x"}
    )
    assert closed.status_code == 409, closed.text
    missing = await matcher.get(f"/v1/routing-batches/{uuid.uuid4()}")
    assert missing.status_code == 404
