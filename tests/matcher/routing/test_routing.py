"""Routing civic calls through HTTP: the real model, a real PostgreSQL, citizens from the feed."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from convene_matcher.citizens.schemas import MatchSnapshot
from convene_matcher.configs.repository import active_config_id
from convene_matcher.routing.dependencies import DEVELOPMENT_REF_SECRET
from convene_matcher.routing.refs import candidate_ref
from convene_matcher.routing.repository import record_invitation
from convene_matcher.routing.schemas import MatchResult
from tests.matcher.routing.citizens import (
    BOLTON,
    LONDON,
    MANCHESTER,
    SALFORD,
    erase,
    load,
    snapshot,
)

BODY = uuid.UUID("00000000-0000-4000-8000-00000000c0de")
BODY_NAME = "Manchester City Council"
NOW = datetime.now(UTC)


def population() -> dict[str, MatchSnapshot]:
    engineer = [("transport engineering", "can_do"), ("traffic signal design", "can_do")]
    people = {
        "planner1": snapshot(
            skills=[("urban planning", "can_do"), ("street design", "can_do")],
            roles=["urban-planner"],
            badges=[("Chartered town planner", True)],
        ),
        "planner2": snapshot(skills=[("urban planning", "can_explain")], roles=["urban-planner"]),
        **{
            f"engineer{i}": snapshot(skills=engineer, roles=["transport-engineer"], at=SALFORD)
            for i in range(1, 5)
        },
        "cyclist1": snapshot(
            skills=[("commuting by bicycle", "can_do")],
            roles=["cyclist"],
            topics=["cycle lane safety on Oxford Road"],
        ),
        "cyclist2": snapshot(skills=[("cycling in city traffic", "can_do")], roles=["cyclist"]),
        "cyclist3": snapshot(skills=[("bike maintenance", "can_do")], roles=["cyclist"]),
        "cab1": snapshot(skills=[("driving a taxi in the city", "can_do")], roles=["cab-driver"]),
        "cab_metro": snapshot(
            skills=[("driving a taxi", "can_do")],
            roles=["cab-driver"],
            affiliations=[("Metro Cabs Ltd", "employer")],
        ),
        "cab_bolton": snapshot(
            skills=[("driving a taxi", "can_do")], roles=["cab-driver"], at=BOLTON
        ),
        "engineer_metro_interest": snapshot(
            skills=engineer,
            roles=["transport-engineer"],
            affiliations=[("metro cabs limited", "commercial_interest")],
        ),
        "engineer_council_staff": snapshot(
            skills=engineer,
            roles=["transport-engineer"],
            affiliations=[("Manchester City Council", "employer")],
        ),
        "engineer_london": snapshot(skills=engineer, roles=["transport-engineer"], at=LONDON),
        "engineer_no_consent": snapshot(
            skills=engineer, roles=["transport-engineer"], consent=False
        ),
        "engineer_capped": snapshot(skills=engineer, roles=["transport-engineer"], max_per_month=1),
        "engineer_unavailable": snapshot(
            skills=engineer,
            roles=["transport-engineer"],
            unavailable=[(NOW + timedelta(days=2), NOW + timedelta(days=40))],
        ),
        "engineer_erased": snapshot(skills=engineer, roles=["transport-engineer"]),
        "baker": snapshot(skills=[("sourdough baking", "can_do")]),
    }
    return people


@pytest.fixture
async def civic(matcher_app: FastAPI) -> dict[str, MatchSnapshot]:
    people = population()
    await load(matcher_app, *people.values())
    await erase(matcher_app, people["engineer_erased"].citizen_id)
    async with matcher_app.state.pool.acquire() as connection:
        await record_invitation(
            connection,
            citizen_id=people["engineer_capped"].citizen_id,
            public_body_id=uuid.uuid4(),
            call_id=None,
            invited_at=NOW,
        )
    return people


def bike_lane_call(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "public_body_id": str(BODY),
        "public_body_name": BODY_NAME,
        "title": "Protected bike lanes on Oxford Road",
        "description": (
            "The council is planning segregated cycle lanes and junction changes on Oxford "
            "Road. We want to hear from people who plan streets, engineer traffic signals, "
            "cycle the route, or drive taxis along it."
        ),
        "questions": ["How should junctions and loading bays work with a protected lane?"],
        "skills": [{"label": "urban planning"}, {"label": "transport engineering"}],
        "perspectives": [
            {"role": "urban planner", "min": 1, "max": 2},
            {"role": "transport engineer", "min": 1, "max": 3},
            {"role": "cyclist", "min": 1, "max": 3},
            {"role": "cab driver", "min": 1, "max": 2},
        ],
        "place": {"lat": MANCHESTER[0], "lon": MANCHESTER[1], "radius_km": 10},
        "languages": ["en"],
        "hours": 2,
        "deadline": (NOW + timedelta(days=30)).isoformat(),
        "panel_size": 6,
        "conflicts": [],
        "confidentiality": "public",
    }
    body.update(overrides)
    return body


async def post_call(matcher: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await matcher.post("/v1/calls", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def match(
    matcher: httpx.AsyncClient, call_id: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await matcher.post(
        f"/v1/calls/{call_id}/match", params={"public_body_id": str(BODY)}, json=body
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def ref(call_id: str, person: MatchSnapshot) -> str:
    return candidate_ref(
        secret=DEVELOPMENT_REF_SECRET, call_id=uuid.UUID(call_id), citizen_id=person.citizen_id
    )


def who(call_id: str, people: dict[str, MatchSnapshot], refs: list[str]) -> set[str]:
    by_ref = {ref(call_id, person): name for name, person in people.items()}
    return {by_ref[r] for r in refs}


async def test_bike_lane_call_reaches_the_whole_system(
    matcher: httpx.AsyncClient, civic: dict[str, MatchSnapshot], matcher_app: FastAPI
) -> None:
    call = await post_call(matcher, bike_lane_call())
    result = await match(matcher, call["id"])

    panel = {member["ref"]: member["fills"] for member in result["panel"]}
    assert len(panel) == 6
    filled = {role for fills in panel.values() for role in fills}
    assert {"urban planner", "transport engineer", "cyclist", "cab driver"} <= filled
    assert result["unmet"] == []
    names = who(call["id"], civic, list(panel))
    assert "baker" not in names
    assert "cab1" in names  # the only cab driver within 10 km
    # Every candidate is explained; refs reveal nothing and are stable for the call.
    for candidate in result["candidates"]:
        assert candidate["ref"].startswith("c_")
        assert set(candidate["adjustments"]) >= {
            "similarity", "verified_badges", "rating", "locality", "exposure"
        }  # fmt: skip
        assert candidate["evidence"], candidate
        assert all(-1 <= e["similarity"] <= 1 for e in candidate["evidence"])
    planner1 = next(
        c for c in result["candidates"] if c["ref"] == ref(call["id"], civic["planner1"])
    )
    assert planner1["adjustments"]["verified_badges"] > 0
    body_text = str(result)
    for person in civic.values():
        assert person.citizen_id not in body_text
    # Stored so invitations can resolve refs.
    async with matcher_app.state.pool.acquire() as connection:
        rows = await connection.fetch(
            "SELECT ref, citizen_id::text AS citizen_id, in_panel FROM call_match"
            " WHERE call_id = $1",
            uuid.UUID(call["id"]),
        )
    stored = {row["ref"]: row["citizen_id"] for row in rows if row["in_panel"]}
    assert set(stored) == set(panel)
    assert stored[ref(call["id"], civic["cab1"])] == civic["cab1"].citizen_id


async def test_match_body_is_the_stored_last_match_as_fastapi_serialised_it(
    matcher: httpx.AsyncClient, civic: dict[str, MatchSnapshot], matcher_app: FastAPI
) -> None:
    call = await post_call(matcher, bike_lane_call())
    response = await matcher.post(
        f"/v1/calls/{call['id']}/match", params={"public_body_id": str(BODY)}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    # The bytes FastAPI answered when the route returned the model (validated, dumped with
    # the response model's by_alias=True): the route now sends its stored JSON itself.
    echo = FastAPI()

    @echo.post("/", response_model=MatchResult)
    async def answer() -> MatchResult:
        return MatchResult.model_validate_json(response.content)

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=echo), base_url="http://echo.test"
    ) as client:
        assert (await client.post("/")).content == response.content
    # The active configuration (the defaults, stored on first use) ranked it.
    async with matcher_app.state.pool.acquire() as connection:
        active = await active_config_id(connection)
    assert active is not None
    assert response.json()["config_id"] == active
    stored = await matcher.get(
        f"/v1/calls/{call['id']}/match", params={"public_body_id": str(BODY)}
    )
    assert stored.status_code == 200, stored.text
    assert stored.json() == response.json()


async def test_rematch_keeps_dropped_rows_and_flags_only_the_latest(
    matcher: httpx.AsyncClient, civic: dict[str, MatchSnapshot], matcher_app: FastAPI
) -> None:
    call = await post_call(matcher, bike_lane_call())
    first = await match(matcher, call["id"])
    dropped = civic["cyclist2"]
    assert ref(call["id"], dropped) in {c["ref"] for c in first["candidates"]}
    # cyclist2 withdraws consent and a new cyclist joins before the call is matched again.
    withdrawn = dropped.model_dump(mode="json")
    withdrawn["consent"] = {"matching": False, "contact": False}
    newcomer = snapshot(skills=[("cycling in city traffic", "can_do")], roles=["cyclist"])
    await load(matcher_app, MatchSnapshot.model_validate(withdrawn), newcomer)
    second = await match(matcher, call["id"])
    refs = [c["ref"] for c in second["candidates"]]
    assert ref(call["id"], dropped) not in refs
    assert ref(call["id"], newcomer) in refs
    async with matcher_app.state.pool.acquire() as connection:
        rows = await connection.fetch(
            """SELECT ref, citizen_id::text AS citizen_id, score, position, in_panel, fills,
                      explanation, citizen_evidence, latest
               FROM call_match WHERE call_id = $1""",
            uuid.UUID(call["id"]),
        )
    by_ref = {row["ref"]: row for row in rows}
    assert {r for r, row in by_ref.items() if row["latest"]} == set(refs)
    stale = by_ref[ref(call["id"], dropped)]
    assert not stale["latest"]
    assert stale["citizen_id"] == dropped.citizen_id
    people = {ref(call["id"], person): person for person in [*civic.values(), newcomer]}
    panel = {member["ref"]: member["fills"] for member in second["panel"]}
    for position, candidate in enumerate(second["candidates"]):
        row = by_ref[candidate["ref"]]
        assert row["citizen_id"] == people[candidate["ref"]].citizen_id
        assert row["position"] == position
        assert row["score"] == pytest.approx(candidate["score"], abs=1e-6)
        assert row["in_panel"] == (candidate["ref"] in panel)
        assert row["explanation"] == candidate
        assert row["citizen_evidence"], candidate["ref"]
        # Stored fills are the quota roles alone (the response says "relevance" otherwise).
        expected_fills = [f for f in panel.get(candidate["ref"], []) if f != "relevance"]
        assert row["fills"] == expected_fills


async def test_declared_conflict_excludes_staff_and_interests(
    matcher: httpx.AsyncClient, civic: dict[str, MatchSnapshot]
) -> None:
    call = await post_call(
        matcher,
        bike_lane_call(
            conflicts=["Metro Cabs Ltd"],
            place={"lat": MANCHESTER[0], "lon": MANCHESTER[1], "radius_km": 30},
        ),
    )
    result = await match(matcher, call["id"])
    names = who(call["id"], civic, [c["ref"] for c in result["candidates"]])
    assert "cab_metro" not in names
    assert "engineer_metro_interest" not in names
    assert "engineer_council_staff" not in names  # the posting body's own staff
    assert {"cab1", "cab_bolton"} <= names
    assert result["stats"]["filtered"]["conflict"] == 3

    # Without the declared conflict, Metro's people are candidates again.
    open_call = await post_call(
        matcher, bike_lane_call(place={"lat": MANCHESTER[0], "lon": MANCHESTER[1], "radius_km": 30})
    )
    open_result = await match(matcher, open_call["id"])
    open_names = who(open_call["id"], civic, [c["ref"] for c in open_result["candidates"]])
    assert {"cab_metro", "engineer_metro_interest"} <= open_names


async def test_body_staff_join_only_through_a_body_staff_perspective(
    matcher: httpx.AsyncClient, civic: dict[str, MatchSnapshot]
) -> None:
    perspectives = [*bike_lane_call()["perspectives"], {"role": "body staff", "min": 0, "max": 1}]
    call = await post_call(matcher, bike_lane_call(perspectives=perspectives, panel_size=10))
    result = await match(matcher, call["id"])
    names = who(call["id"], civic, [c["ref"] for c in result["candidates"]])
    assert "engineer_council_staff" in names


def brute_force_best(
    candidates: list[dict[str, Any]], *, panel_size: int, quotas: list[dict[str, Any]]
) -> float:
    best = -1.0
    for subset in itertools.combinations(candidates, panel_size):
        ok = all(
            q["min"] <= sum(q["role"] in c["roles"] for c in subset) <= q["max"] for q in quotas
        )
        if ok:
            best = max(best, sum(c["score"] for c in subset))
    return best


async def test_binding_quota_gives_the_best_feasible_panel_not_top_k(
    matcher: httpx.AsyncClient, civic: dict[str, MatchSnapshot]
) -> None:
    quotas = [{"role": "cyclist", "min": 2, "max": 4}]
    call = await post_call(
        matcher,
        bike_lane_call(
            title="Traffic signal timing at Oxford Road junctions",
            description="Transport engineering review of signal design and junction capacity.",
            questions=[],
            skills=[{"label": "transport engineering"}, {"label": "traffic signal design"}],
            perspectives=quotas,
            panel_size=4,
        ),
    )
    result = await match(matcher, call["id"])
    candidates = result["candidates"]
    top4 = who(call["id"], civic, [c["ref"] for c in candidates[:4]])
    assert all(name.startswith("engineer") for name in top4)  # top-k: four engineers

    panel = [member["ref"] for member in result["panel"]]
    assert result["stats"]["panel_method"] == "solver"
    names = who(call["id"], civic, panel)
    assert sum(name.startswith("cyclist") for name in names) == 2
    assert result["unmet"] == []
    score = {c["ref"]: c["score"] for c in candidates}
    chosen = sum(score[r] for r in panel)
    assert chosen == pytest.approx(
        brute_force_best(candidates[:14], panel_size=4, quotas=quotas), abs=1e-4
    )


async def test_unsatisfiable_quota_returns_best_panel_and_a_reason(
    matcher: httpx.AsyncClient, civic: dict[str, MatchSnapshot]
) -> None:
    call = await post_call(
        matcher,
        bike_lane_call(
            conflicts=["Metro Cabs Ltd"],
            perspectives=[{"role": "cab driver", "min": 3, "max": 3}],
            panel_size=5,
        ),
    )
    result = await match(matcher, call["id"])
    assert len(result["panel"]) == 5
    [unmet] = result["unmet"]
    assert unmet["role"] == "cab driver"
    assert unmet["wanted"] == 3
    assert unmet["found"] == 1
    assert unmet["reason"].startswith("only 1 cab driver is available within 10 km"), unmet
    assert "1 by conflict" in unmet["reason"]
    assert "1 by place" in unmet["reason"]


async def test_excluded_citizens_never_appear(
    matcher: httpx.AsyncClient, civic: dict[str, MatchSnapshot], matcher_app: FastAPI
) -> None:
    call = await post_call(matcher, bike_lane_call(panel_size=12))
    result = await match(matcher, call["id"])
    names = who(call["id"], civic, [c["ref"] for c in result["candidates"]])
    excluded = {
        "engineer_erased",
        "engineer_no_consent",
        "engineer_capped",
        "engineer_unavailable",
        "engineer_london",
    }
    assert not names & excluded
    assert {"engineer1", "engineer2", "engineer3", "engineer4"} <= names
    stats = result["stats"]["filtered"]
    assert stats["consent"] == 1
    assert stats["invitation_cap"] == 1
    assert stats["availability"] == 1
    async with matcher_app.state.pool.acquire() as connection:
        stored: list[asyncpg.Record] = await connection.fetch(
            "SELECT citizen_id::text AS citizen_id FROM call_match"
        )
    stored_ids = {row["citizen_id"] for row in stored}
    assert not stored_ids & {civic[name].citizen_id for name in excluded}


async def test_seeded_ties_are_reproducible(
    matcher: httpx.AsyncClient, matcher_app: FastAPI, civic: dict[str, MatchSnapshot]
) -> None:
    call = await post_call(matcher, bike_lane_call(panel_size=3, perspectives=[]))
    first = await match(matcher, call["id"], {"seed": 7})
    again = await match(matcher, call["id"], {"seed": 7})
    assert first["candidates"] == again["candidates"]
    assert first["panel"] == again["panel"]
    unseeded = [await match(matcher, call["id"]) for _ in range(2)]
    assert unseeded[0] == unseeded[1]
    # engineer1..4 are identical: different seeds order them differently.
    orders = set()
    for seed in range(8):
        result = await match(matcher, call["id"], {"seed": seed})
        orders.add(tuple(c["ref"] for c in result["candidates"][:4]))
    assert len(orders) > 1


async def test_match_of_another_bodys_call_is_404(
    matcher: httpx.AsyncClient, civic: dict[str, MatchSnapshot]
) -> None:
    call = await post_call(matcher, bike_lane_call())
    response = await matcher.post(
        f"/v1/calls/{call['id']}/match", params={"public_body_id": str(uuid.uuid4())}
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    response = await matcher.post(
        f"/v1/calls/{call['id']}/match", params={"public_body_id": str(BODY)}, json={"x": 1}
    )
    assert response.status_code == 422


async def test_erasure_deletes_the_citizens_match_and_exposure_rows(
    matcher: httpx.AsyncClient, civic: dict[str, MatchSnapshot], matcher_app: FastAPI
) -> None:
    call = await post_call(matcher, bike_lane_call())
    result = await match(matcher, call["id"])
    gone = civic["planner1"]
    assert ref(call["id"], gone) in {c["ref"] for c in result["candidates"]}
    async with matcher_app.state.pool.acquire() as connection:
        await record_invitation(
            connection,
            citizen_id=gone.citizen_id,
            public_body_id=BODY,
            call_id=uuid.UUID(call["id"]),
            invited_at=NOW,
        )
    await erase(matcher_app, gone.citizen_id)
    query = "SELECT count(*) FROM {} WHERE citizen_id = $1::uuid"
    async with matcher_app.state.pool.acquire() as connection:
        for table in ("call_match", "exposure"):
            assert await connection.fetchval(query.format(table), gone.citizen_id) == 0, table
        others = await connection.fetchval(
            "SELECT count(*) FROM call_match WHERE citizen_id <> $1::uuid", gone.citizen_id
        )
        capped = await connection.fetchval(
            query.format("exposure"), civic["engineer_capped"].citizen_id
        )
    assert others > 0  # only the erased citizen's rows went
    assert capped == 1


async def test_not_my_expertise_declines_damp_that_evidence_in_later_calls(
    matcher: httpx.AsyncClient, civic: dict[str, MatchSnapshot], matcher_app: FastAPI
) -> None:
    first = await post_call(matcher, bike_lane_call())
    before = {c["ref"]: c for c in (await match(matcher, first["id"]))["candidates"]}
    planner1 = before[ref(first["id"], civic["planner1"])]
    planner2 = before[ref(first["id"], civic["planner2"])]
    assert planner1["adjustments"]["not_my_expertise"] == 0
    # planner1 declined an invitation to the first call: "urban planning" is not their thing.
    invitation_id = uuid.uuid4()
    async with matcher_app.state.pool.acquire() as connection:
        await connection.execute(
            """INSERT INTO invitation (id, call_id, ref, citizen_id, public_body_id, status,
                                       decline_reason)
               VALUES ($1, $2, $3, $4, $5, 'declined', 'not_my_expertise')""",
            invitation_id,
            uuid.UUID(first["id"]),
            planner1["ref"],
            uuid.UUID(civic["planner1"].citizen_id),
            BODY,
        )
        await connection.execute(
            "INSERT INTO evidence_feedback (invitation_id, citizen_id, evidence_text)"
            " VALUES ($1, $2, 'urban planning')",
            invitation_id,
            uuid.UUID(civic["planner1"].citizen_id),
        )
    second = await post_call(matcher, bike_lane_call())
    after = {c["ref"]: c for c in (await match(matcher, second["id"]))["candidates"]}
    damped = after[ref(second["id"], civic["planner1"])]
    untouched = after[ref(second["id"], civic["planner2"])]
    assert damped["adjustments"]["not_my_expertise"] < 0
    assert damped["adjustments"]["similarity"] == pytest.approx(
        planner1["adjustments"]["similarity"] + damped["adjustments"]["not_my_expertise"],
        abs=1e-5,
    )
    assert damped["score"] < planner1["score"]
    # The evidence shown keeps its own similarity; other citizens are untouched.
    assert untouched["adjustments"] == planner2["adjustments"]
    shown = {e["text"]: e["similarity"] for e in damped["evidence"]}
    assert shown.get("urban planning", 0) == pytest.approx(
        {e["text"]: e["similarity"] for e in planner1["evidence"]}["urban planning"]
    )
