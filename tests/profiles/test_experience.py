"""Experience entries and the bio: create, edit, delete, export, erase, all on the feed."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx

from tests.profiles.conftest import CreateCitizen, MakeSettings

LONG = " ".join(f"Sentence number {n} about running a food bank in Salford." for n in range(80))


async def feed(client: httpx.AsyncClient, citizen_id: str) -> list[dict[str, Any]]:
    items = (await client.get("/v1/changes", params={"limit": 1000})).json()["items"]
    return [item for item in items if item["citizen_id"] == citizen_id]


async def test_entries_create_edit_delete_and_feed(
    client: httpx.AsyncClient, create_citizen: CreateCitizen
) -> None:
    citizen = await create_citizen()
    base = f"/v1/citizens/{citizen['id']}/experience"
    before = len(await feed(client, citizen["id"]))
    response = await client.post(
        base,
        json={
            "kind": "volunteering",
            "title": "Food bank coordinator",
            "description": LONG[:4000],
            "from": "2019-03-01",
            "organisation": "Salford Food Bank",
        },
    )
    assert response.status_code == 201, response.text
    entry = response.json()
    assert entry["from"] == "2019-03-01"
    assert entry["to"] is None
    assert entry["kind"] == "volunteering"
    assert len(entry["description"]) == 4000
    assert (await client.get(base)).json()["items"] == [entry]

    changes = await feed(client, citizen["id"])
    assert len(changes) == before + 1
    snapshot = changes[-1]["snapshot"]
    assert snapshot["experience"] == [
        {
            "id": entry["id"],
            "kind": "volunteering",
            "title": "Food bank coordinator",
            "description": LONG[:4000],
            "organisation": "Salford Food Bank",
            "from": "2019-03-01",
            "to": None,
            "visible_to_bodies": True,
        }
    ]

    patched = await client.patch(
        f"{base}/{entry['id']}", json={"title": "Food bank lead", "to": "2023-01-31"}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == "Food bank lead"
    assert patched.json()["to"] == "2023-01-31"
    assert patched.json()["organisation"] == "Salford Food Bank"
    snapshot = (await feed(client, citizen["id"]))[-1]["snapshot"]
    assert snapshot["experience"][0]["title"] == "Food bank lead"

    # A 'to' before the stored 'from' is refused and changes nothing.
    count = len(await feed(client, citizen["id"]))
    bad = await client.patch(f"{base}/{entry['id']}", json={"to": "2001-01-01"})
    assert bad.status_code == 400, bad.text
    assert bad.json()["type"].endswith("experience-dates-out-of-order")
    assert len(await feed(client, citizen["id"])) == count

    assert (await client.delete(f"{base}/{entry['id']}")).status_code == 204
    assert (await client.delete(f"{base}/{entry['id']}")).status_code == 404
    assert (await client.patch(f"{base}/{entry['id']}", json={"title": "x"})).status_code == 404
    assert (await feed(client, citizen["id"]))[-1]["snapshot"]["experience"] == []


async def test_bad_entries_are_refused(
    client: httpx.AsyncClient, create_citizen: CreateCitizen
) -> None:
    citizen = await create_citizen()
    base = f"/v1/citizens/{citizen['id']}/experience"
    good = {"kind": "work", "title": "Bus driver", "description": "Twenty years on route 50."}
    for bad in (
        {**good, "kind": "hobby"},
        {**good, "title": ""},
        {**good, "title": "x" * 201},
        {**good, "description": "x" * 4001},
        {**good, "from": "2020-01-01", "to": "2019-01-01"},
        {**good, "surprise": True},
    ):
        response = await client.post(base, json=bad)
        assert response.status_code == 422, (bad, response.text)
    assert (await client.get(base)).json()["items"] == []
    missing = f"/v1/citizens/{uuid.uuid4()}/experience"
    assert (await client.post(missing, json=good)).status_code == 404
    other = await create_citizen()
    entry = (await client.post(base, json=good)).json()
    # Another citizen cannot reach this entry by its id.
    foreign = f"/v1/citizens/{other['id']}/experience/{entry['id']}"
    assert (await client.patch(foreign, json={"title": "Mine now"})).status_code == 404
    assert (await client.delete(foreign)).status_code == 404
    assert (await client.patch(f"{base}/{entry['id']}", json={"title": None})).status_code == 422


async def test_entry_limit_is_a_conflict(
    make_settings: MakeSettings, create_citizen: CreateCitizen, client: httpx.AsyncClient
) -> None:
    from convene_profiles.main import create_app

    app = create_app(make_settings(max_experience_entries_per_citizen=1))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as small,
    ):
        citizen = await create_citizen()
        base = f"/v1/citizens/{citizen['id']}/experience"
        entry = {"kind": "study", "title": "MSc Transport Planning"}
        assert (await small.post(base, json=entry)).status_code == 201
        response = await small.post(base, json=entry)
        assert response.status_code == 409
        assert response.json()["type"].endswith("experience-limit-reached")


async def test_bio_is_updated_exported_and_on_the_feed(
    client: httpx.AsyncClient, create_citizen: CreateCitizen
) -> None:
    citizen = await create_citizen()
    assert citizen["bio"] == ""
    assert citizen["experience"] == []
    url = f"/v1/citizens/{citizen['id']}"
    bio = "I have cycled to work in Manchester for fifteen years."
    response = await client.patch(url, json={"bio": bio})
    assert response.status_code == 200, response.text
    assert response.json()["bio"] == bio
    assert (await feed(client, citizen["id"]))[-1]["snapshot"]["bio"] == bio
    assert (await client.patch(url, json={"bio": "x" * 1001})).status_code == 422
    assert (await client.patch(url, json={"bio": None})).status_code == 422
    await client.post(
        f"{url}/experience", json={"kind": "campaign", "title": "Safe streets campaign"}
    )
    export = (await client.get(f"{url}/export")).json()
    assert export["profile"]["bio"] == bio
    assert [e["title"] for e in export["experience"]] == ["Safe streets campaign"]
    assert [e["title"] for e in export["profile"]["experience"]] == ["Safe streets campaign"]


async def test_erasure_deletes_entries_and_bio(
    client: httpx.AsyncClient,
    create_citizen: CreateCitizen,
    db: asyncpg.Connection[Any],
) -> None:
    citizen = await create_citizen()
    url = f"/v1/citizens/{citizen['id']}"
    await client.patch(url, json={"bio": "A private sentence."})
    await client.post(
        f"{url}/experience",
        json={"kind": "lived_experience", "title": "Carer", "description": "A private story."},
    )
    assert (await client.delete(url)).status_code == 204
    assert (
        await db.fetchval(
            "SELECT count(*) FROM experience_entry WHERE citizen_id = $1",
            uuid.UUID(citizen["id"]),
        )
        == 0
    )
    changes = await feed(client, citizen["id"])
    assert all(change["snapshot"] is None for change in changes)
    everything = str(await db.fetch("SELECT * FROM change"))
    assert "A private s" not in everything


async def test_visible_to_bodies_defaults_true_and_reaches_the_feed(
    client: httpx.AsyncClient, create_citizen: CreateCitizen
) -> None:
    citizen = await create_citizen()
    url = f"/v1/citizens/{citizen['id']}"
    shown = await client.post(f"{url}/skills", json={"label": "Cycling", "level": "can_do"})
    hidden_skill = await client.post(
        f"{url}/skills",
        json={"label": "Debt advice", "level": "can_do", "visible_to_bodies": False},
    )
    hidden_role = await client.post(
        f"{url}/roles", json={"role": "Food bank user", "visible_to_bodies": False}
    )
    hidden_entry = await client.post(
        f"{url}/experience",
        json={"kind": "lived_experience", "title": "Homeless in 2015", "visible_to_bodies": False},
    )
    for response in (shown, hidden_skill, hidden_role, hidden_entry):
        assert response.status_code == 201, response.text
    assert shown.json()["visible_to_bodies"] is True
    assert hidden_skill.json()["visible_to_bodies"] is False
    assert hidden_role.json()["visible_to_bodies"] is False
    assert hidden_entry.json()["visible_to_bodies"] is False
    snapshot = (await feed(client, citizen["id"]))[-1]["snapshot"]
    assert [s["visible_to_bodies"] for s in snapshot["skills"]] == [True, False]
    assert [r["visible_to_bodies"] for r in snapshot["roles"]] == [False]
    assert [e["visible_to_bodies"] for e in snapshot["experience"]] == [False]
    entry_url = f"{url}/experience/{hidden_entry.json()['id']}"
    shown_again = await client.patch(entry_url, json={"visible_to_bodies": True})
    assert shown_again.json()["visible_to_bodies"] is True
    assert (await client.patch(entry_url, json={"visible_to_bodies": None})).status_code == 422
    snapshot = (await feed(client, citizen["id"]))[-1]["snapshot"]
    assert [e["visible_to_bodies"] for e in snapshot["experience"]] == [True]
