"""Calls: validation naming the field, idempotency (also concurrent), reads and pagination."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from convene_matcher.citizens.schemas import MatchSnapshot
from tests.matcher.routing.citizens import load, snapshot
from tests.matcher.routing.test_routing import BODY, bike_lane_call


@pytest.fixture
async def roles_known(matcher_app: FastAPI) -> None:
    people: list[MatchSnapshot] = [
        snapshot(skills=[("urban planning", "can_do")], roles=["urban-planner"]),
        snapshot(skills=[("transport engineering", "can_do")], roles=["transport-engineer"]),
        snapshot(skills=[("cycling", "can_do")], roles=["cyclist"]),
        snapshot(skills=[("driving a taxi", "can_do")], roles=["cab-driver"]),
    ]
    await load(matcher_app, *people)


def assert_problem(response: httpx.Response, status: int, loc: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if loc is not None:
        locs = [error["loc"] for error in response.json().get("errors", [])]
        assert any(loc in found for found in locs), (loc, locs)


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"title": " ", "description": ""}, "title"),
        ({"perspectives": [{"role": "cyclist", "min": 3, "max": 2}]}, "perspectives.0.min"),
        (
            {
                "panel_size": 3,
                "perspectives": [
                    {"role": "cyclist", "min": 2, "max": 3},
                    {"role": "cab driver", "min": 2, "max": 3},
                ],
            },
            "perspectives",
        ),
        ({"panel_size": 501}, "panel_size"),
        ({"panel_size": 0}, "panel_size"),
        ({"place": {"radius_km": 5}}, "place.radius_km"),
        ({"place": {"lat": 53.4, "lon": -2.2}}, "place.radius_km"),
        ({"deadline": "2020-01-01T00:00:00Z"}, "deadline"),
        ({"deadline": "2099-01-01T00:00:00"}, "deadline"),
        ({"languages": ["english"]}, "languages"),
        ({"confidentiality": "secret"}, "confidentiality"),
        ({"surprise": True}, "surprise"),
    ],
)
async def test_bad_calls_are_422_naming_the_field(
    matcher: httpx.AsyncClient, roles_known: None, overrides: dict[str, Any], loc: str
) -> None:
    response = await matcher.post("/v1/calls", json=bike_lane_call(**overrides))
    assert_problem(response, 422, loc)


@pytest.mark.parametrize("key", ["", "x" * 129, "bad\nkey", "clé"])
async def test_malformed_idempotency_key_is_400(
    matcher: httpx.AsyncClient, roles_known: None, key: str
) -> None:
    headers = [(b"Idempotency-Key", key.encode("utf-8"))]
    response = await matcher.post("/v1/calls", json=bike_lane_call(), headers=headers)
    assert_problem(response, 400)


async def test_idempotent_creation_under_concurrency(
    matcher: httpx.AsyncClient, roles_known: None
) -> None:
    body = bike_lane_call()
    headers = {"Idempotency-Key": "call-2024-0001"}
    responses = await asyncio.gather(
        *(matcher.post("/v1/calls", json=body, headers=headers) for _ in range(20))
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.text for r in responses}) == 1
    again = await matcher.post("/v1/calls", json=body, headers=headers)
    assert again.status_code == 201
    assert again.json() == responses[0].json()

    other = await matcher.post(
        "/v1/calls", json=bike_lane_call(title="Something else"), headers=headers
    )
    assert_problem(other, 422)
    assert "idempotency-key-reused" in other.json()["type"]

    # The same key from another body is another call.
    elsewhere = await matcher.post(
        "/v1/calls", json=bike_lane_call(public_body_id=str(uuid.uuid4())), headers=headers
    )
    assert elsewhere.status_code == 201
    assert elsewhere.json()["id"] != responses[0].json()["id"]
    # Without a key every post is a new call.
    first = await matcher.post("/v1/calls", json=body)
    second = await matcher.post("/v1/calls", json=body)
    assert first.json()["id"] != second.json()["id"]


async def test_get_and_list_only_the_bodys_own_calls(
    matcher: httpx.AsyncClient, roles_known: None
) -> None:
    ids = []
    for position in range(5):
        response = await matcher.post("/v1/calls", json=bike_lane_call(title=f"Call {position}"))
        assert response.status_code == 201
        ids.append(response.json()["id"])
    own = await matcher.get(f"/v1/calls/{ids[0]}", params={"public_body_id": str(BODY)})
    assert own.status_code == 200
    assert own.json()["title"] == "Call 0"
    assert own.json()["perspectives"][0] == {"role": "urban planner", "min": 1, "max": 2}
    other = await matcher.get(f"/v1/calls/{ids[0]}", params={"public_body_id": str(uuid.uuid4())})
    assert_problem(other, 404)

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"public_body_id": str(BODY), "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await matcher.get("/v1/calls", params=params)).json()
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    nobody = await matcher.get("/v1/calls", params={"public_body_id": str(uuid.uuid4())})
    assert nobody.json() == {"items": [], "next_cursor": None}
    bad = await matcher.get("/v1/calls", params={"public_body_id": str(BODY), "cursor": "!!"})
    assert_problem(bad, 400)
