"""Calls as an officer would expect, over the real matcher and profiles apps: PATCH while
open, cancel (pending invitations withdrawn, invitees told), the last match read again,
status and title filters, roles nobody holds accepted and reported, GET /v1/roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.gateway.conftest import CallsGateway


def call_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Protected bike lanes on Oxford Road",
        "description": "Segregated cycle lanes on Oxford Road: how do you cycle the route?",
        "skills": [{"label": "cycling infrastructure design"}],
        "hours": 3,
        "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "panel_size": 2,
    }
    body.update(overrides)
    return body


async def cyclists(gw: CallsGateway, n: int) -> None:
    for _ in range(n):
        _, headers = await gw.citizen(name="Cy Clist")
        await gw.client.patch(
            "/v1/me", headers=headers, json={"consent": {"matching": True, "contact": True}}
        )
        await gw.client.post(
            "/v1/me/skills",
            headers=headers,
            json={"label": "cycling infrastructure design", "level": "can_do"},
        )
    await gw.sync()


async def outbox_kinds(gw: CallsGateway) -> list[str]:
    async with gw.matcher_app.state.pool.acquire() as connection:
        rows = await connection.fetch("SELECT kind FROM notification ORDER BY id")
    return [row["kind"] for row in rows]


async def test_patch_cancel_and_the_last_match(calls_gateway: CallsGateway) -> None:
    gw = calls_gateway
    await cyclists(gw, 2)
    _, key = await gw.public_body()
    call = (await gw.client.post("/v1/calls", headers=key, json=call_body())).json()
    call_id = call["id"]
    assert (await gw.client.get(f"/v1/calls/{call_id}/match", headers=key)).status_code == 404

    patched = await gw.client.patch(
        f"/v1/calls/{call_id}", headers=key, json={"title": "Oxford Road cycle lanes"}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == "Oxford Road cycle lanes"
    assert patched.json()["updated_at"] is not None
    assert (
        await gw.client.patch(f"/v1/calls/{call_id}", headers=key, json={"budget": 1})
    ).status_code == 422

    matched = await gw.client.post(f"/v1/calls/{call_id}/match", headers=key)
    assert matched.status_code == 200, matched.text
    again = await gw.client.get(f"/v1/calls/{call_id}/match", headers=key)
    assert again.status_code == 200
    assert again.json() == matched.json()

    invited = await gw.client.post(f"/v1/calls/{call_id}/invitations", headers=key)
    assert invited.status_code == 201, invited.text
    assert len(invited.json()["items"]) == 2
    # With invitations out, the deadline may only move later; invitees are told.
    earlier = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    refused = await gw.client.patch(f"/v1/calls/{call_id}", headers=key, json={"deadline": earlier})
    assert refused.status_code == 422, refused.text
    later = (datetime.now(UTC) + timedelta(days=40)).isoformat()
    moved = await gw.client.patch(f"/v1/calls/{call_id}", headers=key, json={"deadline": later})
    assert moved.status_code == 200, moved.text
    assert (await outbox_kinds(gw)).count("deadline_changed") == 2

    cancelled = await gw.client.post(
        f"/v1/calls/{call_id}/cancel", headers=key, json={"reason": "The scheme was dropped."}
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["withdrawn"] == 2
    assert cancelled.json()["cancel_reason"] == "The scheme was dropped."
    assert (await outbox_kinds(gw)).count("withdrawn") == 2
    # A cancelled call changes no more.
    for response in (
        await gw.client.patch(f"/v1/calls/{call_id}", headers=key, json={"title": "x"}),
        await gw.client.post(f"/v1/calls/{call_id}/cancel", headers=key, json={"reason": "y"}),
    ):
        assert response.status_code == 409, response.text
    assert (await gw.client.get(f"/v1/calls/{call_id}", headers=key)).json()["title"] == (
        "Oxford Road cycle lanes"
    )

    audit = await gw.client.get(
        "/v1/admin/audit", headers=gw.admin, params={"action": "call.cancelled"}
    )
    (entry,) = audit.json()["items"]
    assert entry["object_id"] == call_id
    assert entry["actor_kind"] == "api_key"


async def test_status_and_title_filters(calls_gateway: CallsGateway) -> None:
    gw = calls_gateway
    _, key = await gw.public_body()
    kept = (await gw.client.post("/v1/calls", headers=key, json=call_body())).json()
    dropped = (
        await gw.client.post(
            "/v1/calls", headers=key, json=call_body(title="Library opening hours 100%")
        )
    ).json()
    await gw.client.post(f"/v1/calls/{dropped['id']}/cancel", headers=key, json={"reason": "r"})

    async def ids(**params: str) -> list[str]:
        page = await gw.client.get("/v1/calls", headers=key, params=params)
        assert page.status_code == 200, page.text
        return [item["id"] for item in page.json()["items"]]

    assert await ids(status="open") == [kept["id"]]
    assert await ids(status="cancelled") == [dropped["id"]]
    assert await ids(status="closed") == []
    assert await ids(q="BIKE lanes") == [kept["id"]]
    assert await ids(q="100%") == [dropped["id"]]
    assert await ids(q="%") == [dropped["id"]]
    assert (await gw.client.get("/v1/calls", headers=key, params={"status": "x"})).status_code == (
        422
    )


async def test_a_role_nobody_holds_is_accepted_and_reported_unmet(
    calls_gateway: CallsGateway,
) -> None:
    gw = calls_gateway
    await cyclists(gw, 1)
    _, key = await gw.public_body()
    created = await gw.client.post(
        "/v1/calls",
        headers=key,
        json=call_body(perspectives=[{"role": "lighthouse keeper", "min": 1, "max": 1}]),
    )
    assert created.status_code == 201, created.text
    matched = await gw.client.post(f"/v1/calls/{created.json()['id']}/match", headers=key)
    assert matched.status_code == 200, matched.text
    unmet = matched.json()["unmet"]
    assert [u["role"] for u in unmet] == ["lighthouse keeper"]


async def test_roles_are_listed_for_citizens_staff_and_keys(calls_gateway: CallsGateway) -> None:
    gw = calls_gateway
    _, citizen = await gw.citizen()
    _, key = await gw.public_body()
    for headers in (citizen, key, gw.admin):
        listed = await gw.client.get("/v1/roles", headers=headers)
        assert listed.status_code == 200, listed.text
        assert isinstance(listed.json()["items"], list)
    assert (await gw.client.get("/v1/roles")).status_code == 401
    assert (
        await gw.client.get("/v1/roles", headers={"X-API-Key": "cvk_nope_nope"})
    ).status_code == 401


async def test_an_unverified_citizen_is_matched_only_after_following_the_link(
    calls_gateway: CallsGateway,
) -> None:
    gw = calls_gateway
    created = await gw.register(name="New Voice", verified=False)
    headers = await gw.login(created["email"])
    await gw.client.patch(
        "/v1/me", headers=headers, json={"consent": {"matching": True, "contact": True}}
    )
    await gw.client.post(
        "/v1/me/skills",
        headers=headers,
        json={"label": "cycling infrastructure design", "level": "can_do"},
    )
    await gw.sync()
    _, key = await gw.public_body()
    call_id = (await gw.client.post("/v1/calls", headers=key, json=call_body())).json()["id"]
    before = await gw.client.post(f"/v1/calls/{call_id}/match", headers=key)
    assert before.status_code == 200, before.text
    assert before.json()["candidates"] == []

    token = await gw.link_token(created["email"], "/verify-email")
    assert (await gw.client.post("/v1/auth/verify-email", json={"token": token})).status_code == 204
    await gw.sync()
    after = await gw.client.post(f"/v1/calls/{call_id}/match", headers=key)
    assert len(after.json()["candidates"]) == 1
    assert len(after.json()["panel"]) == 1
