"""Set-up the staff and admin browser journeys share: an officer of the live suite's council,
bike-lane citizens in profiles, and a citizen accepting an invitation (through the services'
internal APIs: the citizen's own pages are another journey's)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import argon2
import asyncpg
import httpx

OFFICER_PASSWORD = "officer-password-for-web-e2e"
MANCHESTER = (53.4808, -2.2426)
PEOPLE = [
    (["Cycling in city traffic every day", "Protected bike lane design"], ["cyclist"]),
    (["Commuting by bicycle on Oxford Road"], ["cyclist"]),
    (["Bike maintenance and repair"], ["cyclist"]),
    (["Cycling with children to school"], ["cyclist"]),
    (["Driving a taxi in the city centre"], ["cab-driver"]),
    (["Night shifts driving a black cab"], ["cab-driver"]),
    (["Traffic engineering", "Traffic signal design"], ["transport engineer"]),
]


async def add_officer(live: Any, *, role: str = "officer") -> str:
    """A staff member of the live suite's council; returns the email to sign in with."""
    email = f"{role}-{uuid.uuid4().hex[:6]}@council.e2e.example"
    dsn = live.suite.cluster.dsn(live.suite.database, role="convene_gateway")
    connection = await asyncpg.connect(dsn)
    try:
        organisation_id = await connection.fetchval(
            "SELECT id FROM gateway.organisation WHERE name = 'Manchester City Council'"
        )
        account_id = uuid.uuid4()
        await connection.execute(
            """INSERT INTO gateway.account (id, kind, email, password_hash, provisioned_at,
                                    email_verified_at, display_name)
               VALUES ($1, 'staff', $2, $3, now(), now(), 'Olu Officer')""",
            account_id,
            email,
            argon2.PasswordHasher().hash(OFFICER_PASSWORD),
        )
        await connection.execute(
            "INSERT INTO gateway.organisation_member (account_id, organisation_id, role) "
            "VALUES ($1, $2, $3)",
            account_id,
            organisation_id,
            role,
        )
    finally:
        await connection.close()
    return email


async def seed_citizens(live: Any) -> list[str]:
    """Citizens written into profiles through its internal API; waits for the matcher."""
    headers = {"X-Internal-Token": live.suite.internal_token}
    ids = []
    async with httpx.AsyncClient(base_url=live.suite.url("profiles"), headers=headers) as client:
        for skills, roles in PEOPLE:
            citizen_id = str(uuid.uuid4())
            created = await client.post(
                "/v1/citizens",
                json={
                    "id": citizen_id,
                    "email": f"c-{citizen_id[:8]}@e2e.example",
                    "display_name": f"Person {citizen_id[:4]}",
                },
            )
            assert created.status_code == 201, created.text
            patched = await client.patch(
                f"/v1/citizens/{citizen_id}",
                json={
                    "place": {
                        "authority_code": "E08000003",
                        "lat": MANCHESTER[0],
                        "lon": MANCHESTER[1],
                    },
                    "languages": ["en"],
                    "consent": {"matching": True, "contact": True},
                },
            )
            assert patched.status_code == 200, patched.text
            for label in skills:
                added = await client.post(
                    f"/v1/citizens/{citizen_id}/skills", json={"label": label, "level": "can_do"}
                )
                assert added.status_code == 201, added.text
            for role in roles:
                added = await client.post(f"/v1/citizens/{citizen_id}/roles", json={"role": role})
                assert added.status_code == 201, added.text
            ids.append(citizen_id)
    await wait_matcher_knows(live, ids)
    return ids


async def wait_matcher_knows(live: Any, citizen_ids: list[str], timeout: float = 90) -> None:
    dsn = live.suite.cluster.dsn(live.suite.database, role="convene_profiles")
    connection = await asyncpg.connect(dsn)
    try:
        head = await connection.fetchval("SELECT max(seq) FROM profiles.change")
    finally:
        await connection.close()
    headers = {"X-Internal-Token": live.suite.internal_token}
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=live.suite.url("matcher"), headers=headers) as client:
        while time.monotonic() < deadline:
            status = await client.get("/v1/index/status")
            if status.status_code == 200 and status.json()["last_seq"] >= (head or 0):
                return
            await asyncio.sleep(0.3)
    raise TimeoutError("the matcher did not catch up with the change feed")


async def accept_an_invitation(live: Any, call_id: str) -> str:
    """One invited citizen accepts and submits a contribution (a comment; a body rates only a
    submitted contribution), through the matcher's internal citizen API; returns the ref."""
    dsn = live.suite.cluster.dsn(live.suite.database, role="convene_matcher")
    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow(
            "SELECT id, citizen_id, ref FROM matcher.invitation WHERE call_id = $1 "
            "ORDER BY ref LIMIT 1",
            uuid.UUID(call_id),
        )
    finally:
        await connection.close()
    assert row is not None
    headers = {"X-Internal-Token": live.suite.internal_token}
    async with httpx.AsyncClient(base_url=live.suite.url("matcher"), headers=headers) as client:
        accepted = await client.post(
            f"/v1/citizens/{row['citizen_id']}/invitations/{row['id']}/accept"
        )
        assert accepted.status_code == 200, accepted.text
        contributed = await client.post(
            f"/v1/citizens/{row['citizen_id']}/invitations/{row['id']}/contribution",
            json={"answers": [], "comment": "Keep the lane protected past the bus stops."},
        )
        assert contributed.status_code == 200, contributed.text
    return str(row["ref"])


async def press_tab_until(page: Any, name: str, *, limit: int = 80) -> None:
    """Keyboard only: Tab until the focused control's accessible text is ``name``, and its
    focus is visible (GOV.UK's yellow focus state)."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        focused = await page.evaluate(
            """() => { const e = document.activeElement;
                 const s = getComputedStyle(e);
                 const text = e.getAttribute('aria-label') || e.innerText || e.value || '';
                 return {text: text.trim(), outline: s.outlineStyle, shadow: s.boxShadow}; }"""
        )
        if focused["text"] == name:
            visible = focused["outline"] != "none" or focused["shadow"] != "none"
            assert visible, f"no visible focus on {name!r}: {focused}"
            return
    raise AssertionError(f"{name!r} is not reachable with Tab")


async def press(page: Any, name: str, *, key: str = "Enter") -> None:
    """Keyboard only: Tab to the control named ``name`` (focus visibly styled), then press
    Enter (or Space)."""
    await page.locator("body").focus()
    await press_tab_until(page, name)
    await page.keyboard.press(key)
