"""Routing's inputs through HTTP, each with its exact expected effect: access needs shown,
not excluding; rating decay at routing time; badge expiry; exposure damping of the usual
suspects."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from convene_matcher.citizens.schemas import Contribution, MatchSnapshot
from convene_matcher.routing.dependencies import DEVELOPMENT_REF_SECRET
from convene_matcher.routing.refs import candidate_ref
from convene_matcher.routing.repository import record_invitation
from convene_matcher.scoring import MatchingConfig
from tests.matcher.routing.citizens import load, snapshot

BODY = uuid.UUID("00000000-0000-4000-8000-00000000a11e")
NOW = datetime.now(UTC)
DEFAULTS = MatchingConfig()


async def post_call(matcher: httpx.AsyncClient, **extra: Any) -> str:
    body = {
        "public_body_id": str(BODY),
        "public_body_name": "Inputs Borough Council",
        "title": "Cycle lane design",
        "description": "Designing protected cycle lanes.",
        "deadline": (NOW + timedelta(days=14)).isoformat(),
        "panel_size": 3,
        **extra,
    }
    response = await matcher.post("/v1/calls", json=body)
    assert response.status_code == 201, response.text
    call_id: str = response.json()["id"]
    return call_id


async def match(matcher: httpx.AsyncClient, call_id: str) -> dict[str, Any]:
    response = await matcher.post(
        f"/v1/calls/{call_id}/match", params={"public_body_id": str(BODY)}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def ref(call_id: str, person: MatchSnapshot) -> str:
    return candidate_ref(
        secret=DEVELOPMENT_REF_SECRET, call_id=uuid.UUID(call_id), citizen_id=person.citizen_id
    )


def candidate(result: dict[str, Any], call_id: str, person: MatchSnapshot) -> dict[str, Any]:
    found = [c for c in result["candidates"] if c["ref"] == ref(call_id, person)]
    assert found, "not a candidate"
    return found[0]


LANES = [("cycle lane design", "can_do")]


async def test_access_needs_are_shown_to_the_body_and_exclude_only_when_not_offered(
    matcher: httpx.AsyncClient, matcher_app: FastAPI
) -> None:
    needs = snapshot(skills=LANES, access_needs=["Step-free access"])
    others = [snapshot(skills=LANES), snapshot(skills=[("cycle lane planning", "can_do")])]
    await load(matcher_app, needs, *others)
    call_id = await post_call(matcher, access_offered=["hearing loop"])
    result = await match(matcher, call_id)
    assert ref(call_id, needs) in {m["ref"] for m in result["panel"]}
    assert result["panel_needs"] == [
        {"need": "step-free access", "members": 1, "summary": "1 member needs step-free access"}
    ]
    assert "access" not in result["stats"]["filtered"]

    cannot = await post_call(matcher, access_not_offered=["STEP-FREE ACCESS"])
    excluded = await match(matcher, cannot)
    assert ref(cannot, needs) not in {c["ref"] for c in excluded["candidates"]}
    assert excluded["stats"]["filtered"] == {"access": 1}
    assert excluded["panel_needs"] == []


def rated(person: MatchSnapshot, *ratings: tuple[float, datetime]) -> MatchSnapshot:
    contributions = [
        Contribution(id=str(uuid.uuid4()), topic=None, rating=value, rated_at=at)
        for value, at in ratings
    ]
    # The aggregate profiles sent when the rating was fresh: routing must not freeze it.
    return person.model_copy(update={"contributions": contributions})


def rating_term(*ratings: tuple[float, float]) -> float:
    """(value, age in days) -> the score's rating part, by the documented formula."""
    weights = [0.5 ** (age / DEFAULTS.rating_half_life_days) for _, age in ratings]
    score = (3 * 2 + sum(w * v for w, (v, _) in zip(weights, ratings, strict=True))) / (
        2 + sum(weights)
    )
    return DEFAULTS.rating_weight * (score - 3) / 2


async def test_ratings_decay_at_routing_time_and_expired_badges_lose_their_bonus(
    matcher: httpx.AsyncClient, matcher_app: FastAPI
) -> None:
    old = rated(snapshot(skills=LANES, rating=3.67), (5, NOW - timedelta(days=730)))
    mixed = rated(
        snapshot(skills=LANES, rating=3.67),
        (5, NOW - timedelta(days=1)),
        (2, NOW - timedelta(days=365)),
    )
    badge = [("Cycle lane design", True)]
    expired_badge = snapshot(skills=LANES, badges=badge)
    expired_badge = expired_badge.model_copy(
        update={
            "badges": [
                expired_badge.badges[0].model_copy(update={"expires_at": NOW - timedelta(days=1)})
            ]
        }
    )
    valid_badge = snapshot(skills=LANES, badges=badge)
    valid_badge = valid_badge.model_copy(
        update={
            "badges": [
                valid_badge.badges[0].model_copy(update={"expires_at": NOW + timedelta(days=300)})
            ]
        }
    )
    await load(matcher_app, old, mixed, expired_badge, valid_badge)
    call_id = await post_call(matcher)
    result = await match(matcher, call_id)

    assert candidate(result, call_id, old)["adjustments"]["rating"] == pytest.approx(
        rating_term((5, 730)), abs=2e-6
    )
    assert rating_term((5, 730)) == pytest.approx(0.0111111, abs=1e-6)
    assert candidate(result, call_id, mixed)["adjustments"]["rating"] == pytest.approx(
        rating_term((5, 1), (2, 365)), abs=2e-6
    )
    assert candidate(result, call_id, expired_badge)["adjustments"]["verified_badges"] == 0
    assert candidate(result, call_id, valid_badge)["adjustments"]["verified_badges"] == (
        DEFAULTS.verified_badge_bonus
    )


async def test_exposure_damping_moves_the_usual_suspects_down_by_the_formula(
    matcher: httpx.AsyncClient, matcher_app: FastAPI
) -> None:
    peers = [snapshot(skills=LANES) for _ in range(4)]
    suspect, busy, *fresh = peers
    await load(matcher_app, *peers)
    async with matcher_app.state.pool.acquire() as connection:
        for person, count in ((suspect, 10), (busy, 5)):
            for day in range(count):
                await record_invitation(
                    connection,
                    citizen_id=person.citizen_id,
                    public_body_id=uuid.uuid4(),
                    call_id=None,
                    invited_at=NOW - timedelta(days=day),
                )
    call_id = await post_call(matcher, panel_size=2)
    result = await match(matcher, call_id)
    ranked = [c["ref"] for c in result["candidates"]]
    # Identical evidence: undamped, all four score the same; the median window count of the
    # eligible four is (0 + 0 + 5 + 10) / 2 = 2.5 invitations.
    base = candidate(result, call_id, fresh[0])["score"]
    assert candidate(result, call_id, fresh[1])["score"] == base
    assert candidate(result, call_id, fresh[0])["adjustments"]["exposure"] == 0
    for person, invitations in ((suspect, 10), (busy, 5)):
        factor = 1 / (1 + DEFAULTS.exposure_damping * (invitations - 2.5) / DEFAULTS.exposure_scale)
        found = candidate(result, call_id, person)
        assert found["score"] == pytest.approx(base * factor, abs=2e-6)
        assert found["adjustments"]["exposure"] == pytest.approx(base * (factor - 1), abs=2e-6)
    # 10 invitations: x 1/1.75; 5: x 1/1.25. Both fall below the fresh two, the usual
    # suspect last, and the panel is the fresh two.
    assert ranked[2:] == [ref(call_id, busy), ref(call_id, suspect)]
    assert set(ranked[:2]) == {ref(call_id, p) for p in fresh}
    assert {m["ref"] for m in result["panel"]} == {ref(call_id, p) for p in fresh}


ESCO_URI = "http://data.europa.eu/esco/skill/0f7e2a3c-3b5e-4c8b-9d61-2c1f5a8e7b90"


async def test_an_exact_skill_code_match_counts_in_relevance(
    matcher: httpx.AsyncClient, matcher_app: FastAPI
) -> None:
    coded = snapshot(skills=[("traffic modelling", "can_do")])
    coded = coded.model_copy(
        update={"skills": [coded.skills[0].model_copy(update={"code": ESCO_URI})]}
    )
    uncoded = snapshot(skills=[("traffic modelling", "can_do")])
    await load(matcher_app, coded, uncoded)
    call_id = await post_call(
        matcher,
        title="Transport models for the new bus network",
        skills=[{"label": "transport modelling", "code": ESCO_URI}],
    )
    result = await match(matcher, call_id)
    with_code = candidate(result, call_id, coded)["adjustments"]["similarity"]
    without = candidate(result, call_id, uncoded)["adjustments"]["similarity"]
    # One item each, the same text: the coded one's cosine gets skill_code_bonus (0.3), in
    # the (1 - lexical_weight) cosine part of relevance.
    expected = (1 - DEFAULTS.lexical_weight) * DEFAULTS.skill_code_bonus
    assert with_code - without == pytest.approx(expected, abs=2e-6)
