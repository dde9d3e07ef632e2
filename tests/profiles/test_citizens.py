"""Citizens: registration, reads, updates, validation and the internal token."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from convene_profiles.main import create_app
from tests.profiles.conftest import CreateCitizen, MakeSettings, table_counts

PROBLEM = "application/problem+json"


async def test_register_is_idempotent_and_defaults_are_documented(
    client: httpx.AsyncClient,
) -> None:
    citizen_id = str(uuid.uuid4())
    body = {"id": citizen_id, "email": "Ada@Example.org", "display_name": "Ada"}
    first = await client.post("/v1/citizens", json=body)
    assert first.status_code == 201, first.text
    created = first.json()
    assert created["id"] == citizen_id
    assert created["consent"] == {
        "matching": True,
        "contact": False,
        "contributions_as_evidence": True,
    }
    assert created["place"] is None
    assert created["skills"] == []
    assert created["rating"] == {"score": None, "count": 0}
    again = await client.post("/v1/citizens", json=body)
    assert again.status_code == 200
    assert again.json() == created
    fetched = await client.get(f"/v1/citizens/{citizen_id}")
    assert fetched.json() == created


async def test_email_held_by_another_id_is_a_conflict(
    client: httpx.AsyncClient, db: asyncpg.Connection[Any]
) -> None:
    await client.post(
        "/v1/citizens",
        json={"id": str(uuid.uuid4()), "email": "same@example.org", "display_name": "A"},
    )
    before = await table_counts(db)
    response = await client.post(
        "/v1/citizens",
        json={"id": str(uuid.uuid4()), "email": "SAME@example.org", "display_name": "B"},
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith("/email-taken")
    assert await table_counts(db) == before


async def test_bad_registrations_are_problems_that_change_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection[Any]
) -> None:
    before = await table_counts(db)
    good = {"id": str(uuid.uuid4()), "email": "x@example.org", "display_name": "X"}
    cases = [
        {**good, "email": "not-an-email"},
        {**good, "id": "nope"},
        {**good, "is_admin": True},
        {**good, "display_name": 7},
        {"email": "x@example.org"},
    ]
    for body in cases:
        response = await client.post("/v1/citizens", json=body)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["errors"], body
    assert await table_counts(db) == before


async def test_oversized_payload_is_413(
    client: httpx.AsyncClient, db: asyncpg.Connection[Any]
) -> None:
    before = await table_counts(db)
    body = {"id": str(uuid.uuid4()), "email": "x@example.org", "display_name": "x" * 70_000}
    response = await client.post("/v1/citizens", json=body)
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert await table_counts(db) == before


async def test_patch_updates_profile(
    client: httpx.AsyncClient, create_citizen: CreateCitizen
) -> None:
    citizen = await create_citizen()
    patch = {
        "display_name": "Ada L.",
        "place": {"authority_code": "E08000003", "postcode_area": "M", "lat": 53.48, "lon": -2.24},
        "languages": ["en", "cy", "en"],
        "access_needs": ["step-free access"],
        "consent": {"matching": False, "contact": True},
        "availability": {
            "max_invitations_per_month": 2,
            "hours_per_month": 6,
            "unavailable": [{"start": "2030-01-01T00:00:00Z", "end": "2030-02-01T00:00:00Z"}],
        },
    }
    response = await client.patch(f"/v1/citizens/{citizen['id']}", json=patch)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["display_name"] == "Ada L."
    assert body["place"] == patch["place"]
    assert body["languages"] == ["en", "cy"]
    assert body["consent"] == {
        "matching": False,
        "contact": True,
        "contributions_as_evidence": True,
    }
    assert body["availability"]["max_invitations_per_month"] == 2
    assert body["availability"]["unavailable"][0]["start"].startswith("2030-01-01T00:00:00")
    # A partial patch touches only what it names; place null clears the place.
    response = await client.patch(f"/v1/citizens/{citizen['id']}", json={"place": None})
    assert response.json()["place"] is None
    assert response.json()["display_name"] == "Ada L."


async def test_bad_patches_are_problems_that_change_nothing(
    client: httpx.AsyncClient, create_citizen: CreateCitizen, db: asyncpg.Connection[Any]
) -> None:
    citizen = await create_citizen()
    before = await table_counts(db)
    stored = (await client.get(f"/v1/citizens/{citizen['id']}")).json()
    cases = [
        {"languages": ["english"]},
        {"languages": ["xx"]},
        {"place": {"lat": 53.0}},
        {"place": {"authority_code": "Manchester"}},
        {"consent": {}},
        {"consent": {"matching": None}},
        {"availability": {"max_invitations_per_month": -1, "hours_per_month": 1}},
        {
            "availability": {
                "max_invitations_per_month": 1,
                "hours_per_month": 1,
                "unavailable": [{"start": "2030-02-01T00:00:00Z", "end": "2030-01-01T00:00:00Z"}],
            }
        },
        {
            "availability": {
                "max_invitations_per_month": 1,
                "hours_per_month": 1,
                "unavailable": [{"start": "2030-01-01T00:00:00", "end": "2030-02-01T00:00:00"}],
            }
        },
        {"display_name": None},
        {"email": "new@example.org"},
    ]
    for patch in cases:
        response = await client.patch(f"/v1/citizens/{citizen['id']}", json=patch)
        assert response.status_code == 422, patch
        assert response.headers["content-type"] == PROBLEM
    assert await table_counts(db) == before
    assert (await client.get(f"/v1/citizens/{citizen['id']}")).json() == stored


async def test_unknown_citizen_is_404(client: httpx.AsyncClient) -> None:
    missing = uuid.uuid4()
    for method, path in [
        ("GET", f"/v1/citizens/{missing}"),
        ("PATCH", f"/v1/citizens/{missing}"),
        ("DELETE", f"/v1/citizens/{missing}"),
        ("GET", f"/v1/citizens/{missing}/export"),
        ("GET", f"/v1/citizens/{missing}/skills"),
    ]:
        kwargs: dict[str, Any] = {"json": {"display_name": "x"}} if method == "PATCH" else {}
        response = await client.request(method, path, **kwargs)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == PROBLEM


async def test_list_paginates_with_opaque_cursor(
    client: httpx.AsyncClient, create_citizen: CreateCitizen
) -> None:
    created = {(await create_citizen())["id"] for _ in range(5)}
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/citizens", params=params)).json()
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(created)
    for bad in ("%%%", "bm90LWpzb24", "WyJub3QtYS11dWlkIl0"):
        response = await client.get("/v1/citizens", params={"cursor": bad})
        assert response.status_code == 400, bad
        assert response.json()["type"].endswith("/invalid-cursor")


async def test_internal_token_guards_v1_but_not_health(make_settings: MakeSettings) -> None:
    app: FastAPI = create_app(make_settings(internal_token="s3cret"))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http,
    ):
        assert (await http.get("/v1/roles")).status_code == 401
        assert (
            await http.get("/v1/roles", headers={"X-Internal-Token": "wrong"})
        ).status_code == 401
        assert (
            await http.get("/v1/roles", headers={"X-Internal-Token": "s3cret"})
        ).status_code == 200
        assert (await http.get("/readyz")).status_code == 200
        assert (await http.get("/livez")).status_code == 200


async def test_readiness_fails_without_database(app: FastAPI, client: httpx.AsyncClient) -> None:
    assert (await client.get("/readyz")).status_code == 200
    await app.state.pool.close()
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
