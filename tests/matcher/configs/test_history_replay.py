"""History replay routes each call against the evidence as it stood before the call: the
rating a call produced (and its rated contribution's text) must not help replay it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from convene_matcher.calls.service import get_call
from convene_matcher.citizens.schemas import Contribution
from convene_matcher.evaluation.history import replay_call
from convene_matcher.routing.dependencies import DEVELOPMENT_REF_SECRET
from convene_matcher.routing.refs import candidate_ref
from convene_matcher.routing.schemas import CandidateRead
from convene_matcher.scoring import MatchingConfig
from tests.matcher.routing.citizens import load, snapshot

BODY = uuid.UUID("00000000-0000-4000-8000-00000000e7a1")
TITLE = "Protected cycle lanes on Oxford Road"
# What the contributor wrote for this very call (a rated contribution's text is evidence).
ANSWER = "Protected cycle lanes on Oxford Road need kerbs at every junction."


async def test_a_replayed_call_does_not_see_the_rating_it_produced(
    matcher: httpx.AsyncClient, matcher_app: FastAPI
) -> None:
    response = await matcher.post(
        "/v1/calls",
        json={
            "public_body_id": str(BODY),
            "public_body_name": "Replay Borough Council",
            "title": TITLE,
            "description": "Where should the protected lanes and the junctions go?",
            "deadline": (datetime.now(UTC) + timedelta(days=14)).isoformat(),
            "panel_size": 2,
        },
    )
    assert response.status_code == 201, response.text
    call_id = uuid.UUID(response.json()["id"])
    call = await get_call(pool=matcher_app.state.pool, call_id=call_id, public_body_id=BODY)
    earlier = call.created_at - timedelta(days=200)
    later = call.created_at + timedelta(days=3)
    # Rated for this very call (its text is the contribution's evidence), and once long before.
    contributor = snapshot(skills=[("cycling in city traffic", "can_do")]).model_copy(
        update={
            "contributions": [
                Contribution(id=str(uuid.uuid4()), text=ANSWER, rating=5, rated_at=later),
                Contribution(id=str(uuid.uuid4()), topic=None, rating=4, rated_at=earlier),
            ]
        }
    )
    planner = snapshot(skills=[("cycle lane design", "can_do")])
    await load(matcher_app, contributor, planner)
    ref = candidate_ref(
        secret=DEVELOPMENT_REF_SECRET, call_id=call_id, citizen_id=contributor.citizen_id
    )

    def find(candidates: list[CandidateRead]) -> CandidateRead:
        return next(c for c in candidates if c.ref == ref)

    live = await matcher.post(f"/v1/calls/{call_id}/match", params={"public_body_id": str(BODY)})
    live_candidate = next(c for c in live.json()["candidates"] if c["ref"] == ref)
    assert ANSWER in [e["text"] for e in live_candidate["evidence"]]

    replayed = await replay_call(
        pool=matcher_app.state.pool,
        evidence=matcher_app.state.evidence,
        routing=matcher_app.state.routing,
        config=MatchingConfig(),
        call=call,
    )
    candidate = find(replayed.candidates)
    assert ANSWER not in [e.text for e in candidate.evidence]
    assert [e.text for e in candidate.evidence] == ["cycling in city traffic"]
    # Only the earlier rating (4, 200 days old) counts: (3 x 2 + w x 4) / (2 + w).
    weight = 0.5 ** (200 / 365)
    expected = 0.1 * ((6 + weight * 4) / (2 + weight) - 3) / 2
    assert abs(candidate.adjustments.rating - expected) < 2e-6
    assert candidate.adjustments.similarity < live_candidate["adjustments"]["similarity"]
