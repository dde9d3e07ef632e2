"""The demo generator: reproducible, realistic, fast, and on the change feed."""

from __future__ import annotations

import time
from typing import Any

import asyncpg
import httpx

from scripts.demo.citizens import generate_demo


async def test_generates_reproducible_citizens_on_the_feed(
    db: asyncpg.Connection[Any], client: httpx.AsyncClient
) -> None:
    started = time.perf_counter()
    assert await generate_demo(db, count=2000, seed=7) == 2000
    assert time.perf_counter() - started < 30
    assert await db.fetchval("SELECT count(*) FROM citizen") == 2000
    changes = await db.fetch("SELECT seq, kind, snapshot FROM change ORDER BY seq")
    assert [row["seq"] for row in changes] == list(range(1, 2001))
    assert all(row["kind"] == "upsert" and row["snapshot"] for row in changes)
    assert "demo.convene.example" not in str([row["snapshot"] for row in changes[:50]])
    skills = await db.fetchval("SELECT count(DISTINCT label) FROM skill")
    assert skills >= 15
    # No invented taxonomy codes: demo skills have none (no real ESCO URIs to give them).
    assert await db.fetchval("SELECT count(*) FROM skill WHERE code IS NOT NULL") == 0
    levels = {row["level"] for row in await db.fetch("SELECT DISTINCT level FROM skill")}
    assert levels == {"want_to_learn", "can_explain", "can_connect", "can_do"}
    roles = {
        row["role_slug"] for row in await db.fetch("SELECT DISTINCT role_slug FROM citizen_role")
    }
    assert {"cyclist", "cab-driver", "carer", "wheelchair-user"} <= roles
    verified = await db.fetchval("SELECT count(*) FROM badge WHERE verified")
    unverified = await db.fetchval("SELECT count(*) FROM badge WHERE NOT verified")
    assert verified > 100
    assert unverified > 0
    assert (
        await db.fetchval("SELECT count(*) FROM affiliation WHERE organisation = 'Metro Cabs Ltd'")
        > 0
    )
    assert await db.fetchval("SELECT count(*) FROM rating") > 100
    authorities = await db.fetchval("SELECT count(DISTINCT place_authority_code) FROM citizen")
    assert authorities >= 5
    assert await db.fetchval("SELECT count(*) FROM citizen WHERE place_authority_code IS NULL") > 0
    consenting = await db.fetchval("SELECT count(*) FROM citizen WHERE consent_matching")
    assert consenting > 1600
    # Demo people have confirmed their address: matching needs consent and a verified email.
    assert await db.fetchval("SELECT count(*) FROM citizen WHERE NOT email_verified") == 0
    # Generated citizens read back through the API like any other.
    some_id = await db.fetchval("SELECT citizen_id FROM badge WHERE verified LIMIT 1")
    citizen = (await client.get(f"/v1/citizens/{some_id}")).json()
    assert citizen["badges"][0]["verified"] is True
    assert citizen["email"].endswith("@demo.convene.example")
    # The matcher reads them through the feed: snapshots are objects, not encoded strings.
    page = await client.get("/v1/changes", params={"after": 0, "limit": 100})
    assert page.status_code == 200, page.text
    first = page.json()["items"][0]
    assert first["kind"] == "upsert"
    assert isinstance(first["snapshot"]["skills"], list)
    # A second batch continues the feed and the numbering; the same seed gives the same data.
    fingerprint = await db.fetch("SELECT email, languages, place_lat FROM citizen ORDER BY email")
    assert await generate_demo(db, count=10, seed=7) == 10
    assert await db.fetchval("SELECT max(seq) FROM change") == 2010
    assert (
        await db.fetchval(
            "SELECT count(*) FROM citizen WHERE email = 'citizen2010@demo.convene.example'"
        )
        == 1
    )
    await db.execute("TRUNCATE citizen, change CASCADE")
    await db.execute("UPDATE change_counter SET last_seq = 0")
    await generate_demo(db, count=2000, seed=7)
    again = await db.fetch("SELECT email, languages, place_lat FROM citizen ORDER BY email")
    assert again == fingerprint


def test_no_runtime_package_imports_the_demo_generators() -> None:
    """The demo generators live in scripts/demo, outside every service package."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2]
    imports_scripts = re.compile(r"^\s*(from|import) scripts\b", re.MULTILINE)
    offenders = [
        str(path.relative_to(root))
        for base in ("libs", "services")
        for path in (root / base).rglob("*.py")
        if imports_scripts.search(path.read_text()) or path.stem in ("demo", "demo_history")
    ]
    assert offenders == []
