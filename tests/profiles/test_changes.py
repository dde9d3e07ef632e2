"""The change feed: ordered, gap-free under concurrency; erasure blanks and tombstones."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from convene_profiles.citizens.service import reapply_tombstones
from convene_profiles.config import ProfilesSettings
from tests.profiles.conftest import CreateCitizen, table_counts


async def read_all(client: httpx.AsyncClient, after: int = 0) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = (await client.get("/v1/changes", params={"after": after, "limit": 50})).json()
        items += page["items"]
        if not page["items"]:
            return items
        after = page["last_seq"]


async def test_every_change_is_on_the_feed_in_order(
    client: httpx.AsyncClient, create_citizen: CreateCitizen
) -> None:
    citizen = await create_citizen()
    await client.patch(f"/v1/citizens/{citizen['id']}", json={"languages": ["en"]})
    await client.post(
        f"/v1/citizens/{citizen['id']}/skills", json={"label": "Data analysis", "level": "can_do"}
    )
    items = await read_all(client)
    assert [item["seq"] for item in items] == [1, 2, 3]
    assert all(item["kind"] == "upsert" for item in items)
    assert items[0]["snapshot"]["languages"] == []
    assert items[1]["snapshot"]["languages"] == ["en"]
    assert items[2]["snapshot"]["skills"][0]["label"] == "Data analysis"
    empty = (await client.get("/v1/changes", params={"after": 3})).json()
    assert empty == {"items": [], "last_seq": 3, "head_seq": 3}
    assert (await client.get("/v1/changes", params={"after": -1})).status_code == 422


async def test_long_poll_returns_when_a_change_commits(
    client: httpx.AsyncClient, create_citizen: CreateCitizen
) -> None:
    citizen = await create_citizen()

    async def later_change() -> None:
        await asyncio.sleep(0.5)
        await client.patch(f"/v1/citizens/{citizen['id']}", json={"languages": ["cy"]})

    started = time.monotonic()
    task = asyncio.create_task(later_change())
    page = (await client.get("/v1/changes", params={"after": 1, "wait_seconds": 10})).json()
    await task
    assert time.monotonic() - started < 5
    assert [item["seq"] for item in page["items"]] == [2]
    started = time.monotonic()
    page = (await client.get("/v1/changes", params={"after": 2, "wait_seconds": 0.5})).json()
    assert page["items"] == []
    assert time.monotonic() - started >= 0.45


async def test_concurrent_writers_never_leave_a_reader_a_gap(
    client: httpx.AsyncClient, create_citizen: CreateCitizen
) -> None:
    citizens = [await create_citizen() for _ in range(4)]
    writes_per_citizen = 15
    done = asyncio.Event()
    observed: list[int] = []

    async def writer(citizen_id: str) -> None:
        for index in range(writes_per_citizen):
            response = await client.post(
                f"/v1/citizens/{citizen_id}/skills",
                json={"label": f"skill {index}", "level": "can_explain"},
            )
            assert response.status_code == 201

    async def reader() -> None:
        after = 0
        while True:
            finished = done.is_set()
            page = (await client.get("/v1/changes", params={"after": after, "limit": 7})).json()
            seqs = [item["seq"] for item in page["items"]]
            # Each page continues exactly where the last one stopped: no gap, no reordering.
            assert seqs == list(range(after + 1, after + 1 + len(seqs)))
            observed.extend(seqs)
            after = page["last_seq"]
            if finished and not seqs:
                return
            await asyncio.sleep(0)

    reading = asyncio.create_task(reader())
    await asyncio.gather(*(writer(citizen["id"]) for citizen in citizens))
    done.set()
    await reading
    total = len(citizens) * (1 + writes_per_citizen)
    assert observed == list(range(1, total + 1))


async def test_outbox_seq_is_gap_free_when_writers_roll_back(
    client: httpx.AsyncClient, create_citizen: CreateCitizen, db: asyncpg.Connection[Any]
) -> None:
    citizen = await create_citizen()
    # A failing write (skill for an unknown citizen) and a conflicting one leave no hole.
    await client.post(f"/v1/citizens/{uuid.uuid4()}/skills", json={"label": "x", "level": "can_do"})
    await client.post(
        "/v1/citizens",
        json={"id": str(uuid.uuid4()), "email": citizen["email"], "display_name": "dup"},
    )
    await client.patch(f"/v1/citizens/{citizen['id']}", json={"languages": ["pl"]})
    seqs = [row["seq"] for row in await db.fetch("SELECT seq FROM change ORDER BY seq")]
    assert seqs == [1, 2]


async def test_erasure_deletes_blanks_and_tombstones(
    client: httpx.AsyncClient, create_citizen: CreateCitizen, db: asyncpg.Connection[Any]
) -> None:
    keep = await create_citizen()
    citizen = await create_citizen(email="erase.me@example.org")
    cid = citizen["id"]
    await client.post(f"/v1/citizens/{cid}/skills", json={"label": "Nursing", "level": "can_do"})
    await client.post(f"/v1/citizens/{cid}/roles", json={"role": "nurse"})
    await client.post(
        f"/v1/citizens/{cid}/affiliations", json={"organisation": "NHS", "kind": "employer"}
    )
    await client.post(
        f"/v1/citizens/{cid}/ratings",
        json={
            "public_body_id": str(uuid.uuid4()),
            "contribution_id": str(uuid.uuid4()),
            "rating": 4,
        },
    )
    export = (await client.get(f"/v1/citizens/{cid}/export")).json()
    assert export["profile"]["email"] == "erase.me@example.org"
    assert len(export["skills"]) == 1
    assert len(export["roles"]) == 1
    assert len(export["affiliations"]) == 1
    assert len(export["ratings_received"]) == 1
    assert len(export["changes"]) == 5
    assert all(change["snapshot"] for change in export["changes"])

    assert (await client.delete(f"/v1/citizens/{cid}")).status_code == 204
    assert (await client.get(f"/v1/citizens/{cid}")).status_code == 404
    assert (await client.delete(f"/v1/citizens/{cid}")).status_code == 404
    for table in ("skill", "citizen_role", "affiliation", "rating", "badge"):
        assert (
            await db.fetchval(f"SELECT count(*) FROM {table} WHERE citizen_id = $1", uuid.UUID(cid))
            == 0
        )
    items = await read_all(client)
    mine = [item for item in items if item["citizen_id"] == cid]
    assert [item["snapshot"] for item in mine] == [None] * len(mine)
    assert mine[-1]["kind"] == "erase"
    assert mine[-1]["seq"] == items[-1]["seq"]
    others = [item for item in items if item["citizen_id"] == keep["id"]]
    assert others[0]["snapshot"] is not None
    tombstones = await db.fetch("SELECT id_hash FROM erasure_tombstone")
    assert len(tombstones) == 1
    assert cid not in tombstones[0]["id_hash"]
    # Nothing left anywhere mentions the email.
    dump = str(await db.fetch("SELECT * FROM change")) + str(
        await db.fetch("SELECT * FROM citizen")
    )
    assert "erase.me" not in dump
    # The erased id cannot register again.
    again = await client.post(
        "/v1/citizens", json={"id": cid, "email": "back@example.org", "display_name": "B"}
    )
    assert again.status_code == 409
    assert again.json()["type"].endswith("/citizen-erased")


async def test_tombstones_are_reapplied_to_restored_citizens(
    app: FastAPI,
    settings: ProfilesSettings,
    client: httpx.AsyncClient,
    create_citizen: CreateCitizen,
    db: asyncpg.Connection[Any],
) -> None:
    citizen = await create_citizen(email="restored@example.org")
    cid = uuid.UUID(citizen["id"])
    assert (await client.delete(f"/v1/citizens/{cid}")).status_code == 204
    # A backup restore brings the row back.
    await db.execute(
        "INSERT INTO citizen (id, email, display_name) VALUES ($1, $2, $3)",
        cid,
        "restored@example.org",
        "Restored",
    )
    await db.execute(
        "INSERT INTO skill (id, citizen_id, label, level) VALUES ($1, $2, 'x', 'can_do')",
        uuid.uuid4(),
        cid,
    )
    bystander = await create_citizen()
    before_seq = await db.fetchval("SELECT max(seq) FROM change")
    async with app.state.pool.acquire() as connection:
        erased = await reapply_tombstones(connection, salt=settings.erasure_salt.get_secret_value())
    assert erased == 1
    assert await db.fetchval("SELECT count(*) FROM citizen WHERE id = $1", cid) == 0
    assert await db.fetchval("SELECT count(*) FROM skill WHERE citizen_id = $1", cid) == 0
    last = await db.fetchrow("SELECT * FROM change ORDER BY seq DESC LIMIT 1")
    assert last["seq"] == before_seq + 1
    assert last["kind"] == "erase"
    assert last["citizen_id"] == cid
    assert (await client.get(f"/v1/citizens/{bystander['id']}")).status_code == 200
    counts = await table_counts(db)
    async with app.state.pool.acquire() as connection:
        assert await reapply_tombstones(connection, salt="test-salt") == 0
    assert await table_counts(db) == counts


async def test_startup_reapplies_tombstones(
    settings: ProfilesSettings, db: asyncpg.Connection[Any]
) -> None:
    from convene_profiles.main import create_app

    cid = uuid.uuid4()
    await db.execute(
        "INSERT INTO erasure_tombstone (id_hash) "
        "VALUES (encode(sha256(convert_to($1::text || $2::uuid::text, 'UTF8')), 'hex'))",
        "test-salt",
        cid,
    )
    await db.execute(
        "INSERT INTO citizen (id, email, display_name) VALUES ($1, 'r@example.org', 'R')", cid
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert await db.fetchval("SELECT count(*) FROM citizen") == 0
        assert await db.fetchval("SELECT kind FROM change WHERE citizen_id = $1", cid) == "erase"


async def test_each_sub_collection_write_records_exactly_one_change_and_a_refused_one_none(
    client: httpx.AsyncClient, create_citizen: CreateCitizen
) -> None:
    """The per-citizen unit of work: lock, write, record, in one transaction."""
    citizen = await create_citizen()
    base = f"/v1/citizens/{citizen['id']}"
    body_id, contribution_id = str(uuid.uuid4()), str(uuid.uuid4())
    writes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", f"{base}/skills", {"label": "Flood risk", "level": "can_do"}),
        ("POST", f"{base}/roles", {"role": "Allotment holder"}),
        ("POST", f"{base}/affiliations", {"organisation": "Tenants' union", "kind": "board"}),
        (
            "POST",
            f"{base}/ratings",
            {"public_body_id": body_id, "contribution_id": contribution_id, "rating": 4},
        ),
    ]
    seq = len(await read_all(client))
    for method, path, body in writes:
        response = await client.request(method, path, json=body)
        assert response.status_code == 201, (path, response.text)
        changes = await read_all(client, after=seq)
        assert len(changes) == 1, path
        assert changes[0]["citizen_id"] == citizen["id"]
        seq = changes[0]["seq"]
    snapshot = (await read_all(client, after=seq - 1))[0]["snapshot"]
    assert snapshot["skills"][0]["label"] == "Flood risk"
    assert len(snapshot["roles"]) == 1

    # Refused inside the unit (a second rating of one contribution; deleting what is not
    # there; an unknown citizen): nothing written, nothing on the feed.
    again = await client.post(
        f"{base}/ratings",
        json={"public_body_id": body_id, "contribution_id": contribution_id, "rating": 2},
    )
    assert again.status_code == 409
    missing = await client.delete(f"{base}/skills/{uuid.uuid4()}")
    assert missing.status_code == 404
    nobody = await client.post(
        f"/v1/citizens/{uuid.uuid4()}/skills", json={"label": "x", "level": "can_do"}
    )
    assert nobody.status_code == 404
    # A PATCH that changes nothing records nothing either.
    assert (await client.patch(base, json={})).status_code == 200
    assert await read_all(client, after=seq) == []
    ratings = (await client.get(f"{base}/ratings")).json()["items"]
    assert [r["rating"] for r in ratings] == [4]
