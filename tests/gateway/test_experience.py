"""Experience entries and the bio through the gateway, against the real profiles app."""

from __future__ import annotations

from tests.gateway.conftest import Gateway

PROBLEM = "application/problem+json"


async def test_experience_create_edit_delete_bio_and_export(gateway: Gateway) -> None:
    client = gateway.client
    _, headers = await gateway.citizen()
    created = await client.post(
        "/v1/me/experience",
        headers=headers,
        json={
            "kind": "lived_experience",
            "title": "Wheelchair user on Manchester buses",
            "description": "For ten years I have used the 86 and the 50 every day.",
            "from": "2014-09-01",
        },
    )
    assert created.status_code == 201, created.text
    entry = created.json()
    assert entry["id"]
    assert entry["from"] == "2014-09-01"
    assert entry["to"] is None
    assert entry["organisation"] is None

    patched = await client.patch(
        f"/v1/me/experience/{entry['id']}",
        headers=headers,
        json={"organisation": "Transport for Greater Manchester panel", "to": "2024-06-30"},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["to"] == "2024-06-30"
    assert patched.json()["title"] == "Wheelchair user on Manchester buses"

    bio = await client.patch("/v1/me", headers=headers, json={"bio": "Bus user and carer."})
    assert bio.status_code == 200, bio.text
    me = (await client.get("/v1/me", headers=headers)).json()
    assert me["bio"] == "Bus user and carer."
    assert [e["title"] for e in me["experience"]] == ["Wheelchair user on Manchester buses"]
    listed = (await client.get("/v1/me/experience", headers=headers)).json()["items"]
    assert [e["id"] for e in listed] == [entry["id"]]

    exported = await client.get("/v1/me/export", headers=headers)
    assert exported.status_code == 200, exported.text
    assert "For ten years I have used the 86" in exported.text
    assert "Bus user and carer." in exported.text

    removed = await client.delete(f"/v1/me/experience/{entry['id']}", headers=headers)
    assert removed.status_code == 204
    again = await client.delete(f"/v1/me/experience/{entry['id']}", headers=headers)
    assert again.status_code == 404
    assert again.headers["content-type"] == PROBLEM
    assert (await client.get("/v1/me/experience", headers=headers)).json()["items"] == []


async def test_bad_experience_is_422_before_profiles(gateway: Gateway) -> None:
    client = gateway.client
    _, headers = await gateway.citizen()
    good = {"kind": "work", "title": "Planner", "description": "Local plans."}
    for bad in (
        {**good, "kind": "hobby"},
        {**good, "title": ""},
        {**good, "title": "x" * 201},
        {**good, "description": "x" * 4001},
        {**good, "from": "2020-01-01", "to": "2019-12-31"},
        {**good, "extra": 1},
        {"title": "Planner"},
    ):
        response = await client.post("/v1/me/experience", headers=headers, json=bad)
        assert response.status_code == 422, (bad, response.text)
    assert (
        await client.patch("/v1/me", headers=headers, json={"bio": "x" * 1001})
    ).status_code == 422
    entry = (await client.post("/v1/me/experience", headers=headers, json=good)).json()
    for bad_update in ({}, {"title": None}, {"kind": "hobby"}):
        response = await client.patch(
            f"/v1/me/experience/{entry['id']}", headers=headers, json=bad_update
        )
        assert response.status_code == 422, (bad_update, response.text)
    # Dates out of order against the stored entry: profiles refuses, the gateway passes it on.
    await client.patch(
        f"/v1/me/experience/{entry['id']}", headers=headers, json={"from": "2020-01-01"}
    )
    response = await client.patch(
        f"/v1/me/experience/{entry['id']}", headers=headers, json={"to": "2010-01-01"}
    )
    assert response.status_code == 400, response.text


async def test_citizens_cannot_touch_each_others_experience(gateway: Gateway) -> None:
    client = gateway.client
    _, alice = await gateway.citizen()
    _, bob = await gateway.citizen()
    entry = await client.post(
        "/v1/me/experience", headers=alice, json={"kind": "study", "title": "Hydrology MSc"}
    )
    assert entry.status_code == 201, entry.text
    path = f"/v1/me/experience/{entry.json()['id']}"
    assert (await client.patch(path, headers=bob, json={"title": "Mine"})).status_code == 404
    assert (await client.delete(path, headers=bob)).status_code == 404
    assert (await client.get("/v1/me/experience", headers=bob)).json()["items"] == []
    mine = (await client.get("/v1/me/experience", headers=alice)).json()["items"]
    assert [e["title"] for e in mine] == ["Hydrology MSc"]


async def test_items_accept_visible_to_bodies(gateway: Gateway) -> None:
    client = gateway.client
    _, headers = await gateway.citizen()
    for path, body in (
        ("/v1/me/skills", {"label": "Debt advice", "level": "can_do"}),
        ("/v1/me/roles", {"role": "Food bank user"}),
        ("/v1/me/experience", {"kind": "lived_experience", "title": "Homeless in 2015"}),
    ):
        default = await client.post(path, headers=headers, json=body)
        assert default.status_code == 201, default.text
        assert default.json()["visible_to_bodies"] is True
        hidden = await client.post(path, headers=headers, json={**body, "visible_to_bodies": False})
        assert hidden.status_code == 201, hidden.text
        assert hidden.json()["visible_to_bodies"] is False
    entry = hidden.json()
    patched = await client.patch(
        f"/v1/me/experience/{entry['id']}", headers=headers, json={"visible_to_bodies": True}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["visible_to_bodies"] is True
