"""Skills, roles, affiliations and ratings: each change lands on the feed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from convene_profiles.ratings.scoring import RatingPolicy, aggregate_score
from tests.profiles.conftest import CreateCitizen, MakeSettings, table_counts


async def latest_snapshot(client: httpx.AsyncClient, citizen_id: str) -> dict[str, Any]:
    items = (await client.get("/v1/changes", params={"limit": 1000})).json()["items"]
    mine = [item for item in items if item["citizen_id"] == citizen_id]
    snapshot: dict[str, Any] = mine[-1]["snapshot"]
    return snapshot


async def test_skills_add_list_delete_and_feed(
    client: httpx.AsyncClient, create_citizen: CreateCitizen
) -> None:
    citizen = await create_citizen()
    base = f"/v1/citizens/{citizen['id']}/skills"
    response = await client.post(
        base,
        json={
            "label": "Cycling infrastructure design",
            "level": "can_do",
            "code": "http://data.europa.eu/esco/skill/abc",
        },
    )
    assert response.status_code == 201, response.text
    skill = response.json()
    assert skill["level"] == "can_do"
    assert (await client.get(base)).json()["items"] == [skill]
    snapshot = await latest_snapshot(client, citizen["id"])
    assert snapshot["skills"] == [
        {
            "id": skill["id"],
            "label": "Cycling infrastructure design",
            "level": "can_do",
            "code": "http://data.europa.eu/esco/skill/abc",
            "visible_to_bodies": True,
        }
    ]
    assert "email" not in str(snapshot)
    assert "display_name" not in snapshot
    assert (await client.delete(f"{base}/{skill['id']}")).status_code == 204
    assert (await client.delete(f"{base}/{skill['id']}")).status_code == 404
    assert (await latest_snapshot(client, citizen["id"]))["skills"] == []


async def test_bad_skills_change_nothing(
    client: httpx.AsyncClient, create_citizen: CreateCitizen, db: asyncpg.Connection[Any]
) -> None:
    citizen = await create_citizen()
    before = await table_counts(db)
    base = f"/v1/citizens/{citizen['id']}/skills"
    for body in (
        {"label": "x", "level": "expert"},
        {"label": "", "level": "can_do"},
        {"label": "x", "level": "can_do", "extra": 1},
        {"level": "can_do"},
    ):
        response = await client.post(base, json=body)
        assert response.status_code == 422, body
    assert await table_counts(db) == before


async def test_skill_limit_is_a_conflict(
    make_settings: MakeSettings, create_citizen: CreateCitizen, db: asyncpg.Connection[Any]
) -> None:
    from convene_profiles.main import create_app

    app = create_app(make_settings(max_skills_per_citizen=3))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http,
    ):
        citizen = await create_citizen()
        base = f"/v1/citizens/{citizen['id']}/skills"
        for index in range(3):
            response = await http.post(base, json={"label": f"s{index}", "level": "can_explain"})
            assert response.status_code == 201
        before = await table_counts(db)
        response = await http.post(base, json={"label": "one more", "level": "can_explain"})
        assert response.status_code == 409
        assert response.json()["type"].endswith("/skill-limit-reached")
        assert await table_counts(db) == before


async def test_default_skill_limit_is_200(
    client: httpx.AsyncClient, create_citizen: CreateCitizen
) -> None:
    citizen = await create_citizen()
    base = f"/v1/citizens/{citizen['id']}/skills"
    for index in range(200):
        response = await client.post(base, json={"label": f"skill {index}", "level": "can_do"})
        assert response.status_code == 201
    response = await client.post(base, json={"label": "skill 201", "level": "can_do"})
    assert response.status_code == 409
    assert len((await client.get(base)).json()["items"]) == 200


async def test_roles_curated_and_free_text(
    client: httpx.AsyncClient, create_citizen: CreateCitizen
) -> None:
    roles = (await client.get("/v1/roles")).json()["items"]
    slugs = {role["slug"] for role in roles}
    assert {"wheelchair-user", "cab-driver", "carer", "cyclist"} <= slugs
    created = await client.post(
        "/v1/roles", json={"slug": "allotment-holder", "label": "Allotment holder"}
    )
    assert created.status_code == 201
    assert (
        await client.post("/v1/roles", json={"slug": "allotment-holder", "label": "Again"})
    ).status_code == 409
    assert (
        await client.post("/v1/roles", json={"slug": "Bad Slug", "label": "x"})
    ).status_code == 422
    citizen = await create_citizen()
    base = f"/v1/citizens/{citizen['id']}/roles"
    curated = (await client.post(base, json={"role": "cab-driver"})).json()
    assert curated["role"] == "cab-driver"
    assert curated["label"] == "Cab driver"
    assert curated["curated"] is True
    free = (await client.post(base, json={"role": "Canal boat resident"})).json()
    assert free == {**free, "role": "Canal boat resident", "curated": False}
    assert len((await client.get(base)).json()["items"]) == 2
    snapshot = await latest_snapshot(client, citizen["id"])
    assert [role["role"] for role in snapshot["roles"]] == ["cab-driver", "Canal boat resident"]
    assert (await client.delete(f"{base}/{free['id']}")).status_code == 204
    assert len((await client.get(base)).json()["items"]) == 1


async def test_affiliations(client: httpx.AsyncClient, create_citizen: CreateCitizen) -> None:
    citizen = await create_citizen()
    base = f"/v1/citizens/{citizen['id']}/affiliations"
    response = await client.post(
        base, json={"organisation": "Metro Cabs Ltd", "kind": "commercial_interest"}
    )
    assert response.status_code == 201
    affiliation = response.json()
    assert (
        await client.post(base, json={"organisation": "X", "kind": "friend"})
    ).status_code == 422
    snapshot = await latest_snapshot(client, citizen["id"])
    assert snapshot["affiliations"] == [
        {"id": affiliation["id"], "organisation": "Metro Cabs Ltd", "kind": "commercial_interest"}
    ]
    assert (await client.delete(f"{base}/{affiliation['id']}")).status_code == 204
    assert (await client.get(base)).json()["items"] == []


async def test_ratings_one_per_contribution_and_body(
    client: httpx.AsyncClient, create_citizen: CreateCitizen, db: asyncpg.Connection[Any]
) -> None:
    citizen = await create_citizen()
    base = f"/v1/citizens/{citizen['id']}/ratings"
    rating = {
        "public_body_id": str(uuid.uuid4()),
        "contribution_id": str(uuid.uuid4()),
        "rating": 5,
        "contribution_text": "I cycle Oxford Road daily; the lane needs a kerb.",
        "confidential": True,
    }
    assert (await client.post(base, json=rating)).status_code == 201
    before = await table_counts(db)
    again = await client.post(base, json={**rating, "rating": 1})
    assert again.status_code == 409
    assert again.json()["type"].endswith("/duplicate-rating")
    for bad in ({**rating, "rating": 6}, {**rating, "rating": 0}, {**rating, "stars": 2}):
        assert (await client.post(base, json=bad)).status_code == 422
    assert await table_counts(db) == before
    listing = (await client.get(base)).json()
    assert [item["rating"] for item in listing["items"]] == [5]
    # One fresh 5 with a prior of 3.0 weighted 2: (3*2 + 5) / 3 = 3.667, not 5.
    assert listing["aggregate"]["count"] == 1
    assert abs(listing["aggregate"]["score"] - 11 / 3) < 0.01
    snapshot = await latest_snapshot(client, citizen["id"])
    assert snapshot["contributions"][0]["id"] == rating["contribution_id"]
    assert snapshot["contributions"][0]["text"].startswith("I cycle Oxford Road")
    assert snapshot["contributions"][0]["confidential"] is True
    assert snapshot["contributions"][0]["topic"] is None
    # Without the consent, the snapshot keeps the rating but not the text.
    patched = await client.patch(
        f"/v1/citizens/{citizen['id']}", json={"consent": {"contributions_as_evidence": False}}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["consent"]["contributions_as_evidence"] is False
    assert patched.json()["consent"]["matching"] is not None
    snapshot = await latest_snapshot(client, citizen["id"])
    assert snapshot["contributions"][0]["text"] is None
    assert snapshot["contributions"][0]["rating"] == 5
    assert snapshot["rating"]["count"] == 1
    # Another body may rate the same contribution.
    other = {**rating, "public_body_id": str(uuid.uuid4()), "rating": 4}
    assert (await client.post(base, json=other)).status_code == 201


async def test_ratings_paginate(client: httpx.AsyncClient, create_citizen: CreateCitizen) -> None:
    citizen = await create_citizen()
    base = f"/v1/citizens/{citizen['id']}/ratings"
    for value in (1, 2, 3, 4, 5):
        body = {
            "public_body_id": str(uuid.uuid4()),
            "contribution_id": str(uuid.uuid4()),
            "rating": value,
        }
        assert (await client.post(base, json=body)).status_code == 201
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(base, params=params)).json()
        seen += [item["rating"] for item in page["items"]]
        assert page["aggregate"]["count"] == 5
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [1, 2, 3, 4, 5]
    assert (await client.get(base, params={"cursor": "garbage!"})).status_code == 400


def test_aggregate_is_bayesian_with_decay() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    policy = RatingPolicy(prior_mean=3.0, prior_weight=2.0, half_life_days=365.0)
    assert aggregate_score([], policy=policy, now=now) == (None, 0)
    one_five, _ = aggregate_score([(5, now)], policy=policy, now=now)
    assert one_five is not None
    assert abs(one_five - 11 / 3) < 1e-3
    many_fives, count = aggregate_score([(5, now)] * 50, policy=policy, now=now)
    assert count == 50
    assert many_fives is not None
    assert many_fives > 4.9
    # A year-old 1 weighs half a fresh 5.
    mixed, _ = aggregate_score([(5, now), (1, now - timedelta(days=365))], policy=policy, now=now)
    assert mixed is not None
    assert abs(mixed - (6 + 5 + 0.5) / 3.5) < 1e-3
    # Very old ratings fade back towards the prior.
    ancient, _ = aggregate_score([(1, now - timedelta(days=3650))], policy=policy, now=now)
    assert ancient is not None
    assert abs(ancient - 3.0) < 0.01
