"""One routing pipeline: a one-call batch ranks exactly as the call's own match does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from convene_matcher.batch.candidates import route_candidates
from convene_matcher.calls.schemas import CallRead
from convene_matcher.routing.dependencies import DEVELOPMENT_REF_SECRET
from convene_matcher.routing.refs import candidate_ref
from convene_matcher.scoring import MatchingConfig
from tests.matcher.routing.citizens import load, snapshot

BODY = uuid.UUID("00000000-0000-4000-8000-0000000ba7e1")
NOW = datetime.now(UTC)


async def test_a_one_call_batch_pool_equals_the_match_ranking(
    matcher: httpx.AsyncClient, matcher_app: FastAPI
) -> None:
    people = [
        snapshot(skills=[("urban planning", "can_do"), ("cycle lane design", "can_do")]),
        snapshot(skills=[("planning protected cycle lanes", "can_explain")]),
        snapshot(skills=[("bike maintenance", "can_do")], roles=["cyclist"]),
        snapshot(skills=[("road safety audits", "can_do")], badges=[("Road safety", True)]),
        snapshot(skills=[("commuting by bicycle", "can_do")], roles=["cyclist"], rating=4.5),
        snapshot(skills=[("street design", "want_to_learn")]),
    ]
    await load(matcher_app, *people)
    response = await matcher.post(
        "/v1/calls",
        json={
            "public_body_id": str(BODY),
            "public_body_name": "Pipeline Borough Council",
            "title": "Protected cycle lanes on the high street",
            "description": "Planning protected cycle lanes: design, safety and maintenance.",
            "skills": [{"label": "cycle lane design"}],
            "perspectives": [{"role": "cyclist", "min": 1, "max": 2}],
            "deadline": (NOW + timedelta(days=14)).isoformat(),
            "panel_size": 3,
        },
    )
    assert response.status_code == 201, response.text
    call_id = uuid.UUID(response.json()["id"])

    matched = await matcher.post(f"/v1/calls/{call_id}/match", params={"public_body_id": str(BODY)})
    assert matched.status_code == 200, matched.text
    match = matched.json()
    ranked = [(c["ref"], c["score"]) for c in match["candidates"]]
    assert len(ranked) >= 4

    # The batch's pool for the call: the same ranked list, with the same scores.
    call = (await matcher.get(f"/v1/calls/{call_id}", params={"public_body_id": str(BODY)})).json()
    [pool] = await route_candidates(
        pool=matcher_app.state.pool,
        evidence=matcher_app.state.evidence,
        config=MatchingConfig(),
        calls=[CallRead.model_validate(call)],
        invitations={},
        now=datetime.now(UTC),
    )
    refs = [
        candidate_ref(secret=DEVELOPMENT_REF_SECRET, call_id=call_id, citizen_id=s.citizen_id)
        for s in pool
    ]
    assert [(r, round(s.score, 6)) for r, s in zip(refs, pool, strict=True)] == ranked

    batch = await matcher.post(
        "/v1/routing-batches", json={"call_ids": [str(call_id)], "requested_by": "admin:test"}
    )
    assert batch.status_code == 201, batch.text
    [routed] = batch.json()["calls"]
    scores = dict(ranked)
    assert [m["ref"] for m in routed["panel"]] == [m["ref"] for m in match["panel"]]
    for member in routed["panel"]:
        assert member["score"] == scores[member["ref"]]


async def test_a_batch_panel_can_be_invited_by_ref(
    matcher: httpx.AsyncClient, matcher_app: FastAPI
) -> None:
    people = [
        snapshot(skills=[("urban planning", "can_do")]),
        snapshot(skills=[("street design", "can_do")]),
        snapshot(skills=[("sourdough baking", "can_do")]),
    ]
    await load(matcher_app, *people)
    response = await matcher.post(
        "/v1/calls",
        json={
            "public_body_id": str(BODY),
            "public_body_name": "Pipeline Borough Council",
            "title": "Street design and urban planning",
            "description": "Planning our streets.",
            "deadline": (NOW + timedelta(days=14)).isoformat(),
            "panel_size": 2,
        },
    )
    call_id = response.json()["id"]
    batch = await matcher.post(
        "/v1/routing-batches", json={"call_ids": [call_id], "requested_by": "admin:test"}
    )
    assert batch.status_code == 201, batch.text
    refs = [m["ref"] for m in batch.json()["calls"][0]["panel"]]
    assert len(refs) == 2
    # Never matched on its own: the batch wrote the call's match rows.
    invited = await matcher.post(
        f"/v1/calls/{call_id}/invitations",
        params={"public_body_id": str(BODY)},
        json={"refs": refs},
    )
    assert invited.status_code == 201, invited.text
    assert sorted(i["ref"] for i in invited.json()["items"]) == sorted(refs)
    assert invited.json()["skipped"] == []
    # Without refs, "the proposed panel" is the batch's panel.
    async with matcher_app.state.pool.acquire() as connection:
        stored = await connection.fetch(
            "SELECT ref FROM call_match WHERE call_id = $1 AND latest AND in_panel",
            uuid.UUID(call_id),
        )
    assert sorted(r["ref"] for r in stored) == sorted(refs)
