"""A public body's journey through the gateway, with every service a real process on loopback.

Demo citizens go into profiles while everything runs; the matcher tails the change feed. The
council posts the bike-lane call and gets a panel meeting its quotas, each member explained.
A citizen's new skill reaches matching within 2 seconds; an erasure removes them. The matcher
is SIGKILLed, changes are made while it is down, and after a restart none is lost.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from scripts.suite import Suite, run_module
from tests.e2e.verification import verify_from_outbox

pytestmark = pytest.mark.e2e

MANCHESTER = {"authority_code": "E08000003", "lat": 53.4808, "lon": -2.2426}
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@calls.e2e.example", "admin-password-for-calls-e2e"
PASSWORD = "a long enough password"
MAX_PROPAGATION_SECONDS = 2.0


def _deadline() -> str:
    return (datetime.now(UTC) + timedelta(days=30)).isoformat()


def bike_lane_call() -> dict[str, Any]:
    return {
        "title": "Protected bike lanes on Oxford Road",
        "description": (
            "Manchester City Council is planning segregated cycle lanes and junction changes "
            "on Oxford Road. We want to hear from people who plan streets, engineer traffic, "
            "cycle the route, or drive taxis along it."
        ),
        "questions": ["How should junctions and loading bays work with a protected lane?"],
        # Labels as the demo generator writes them (scripts.demo.citizens.SKILLS).
        "skills": [
            {"label": "Urban planning"},
            {"label": "Traffic engineering"},
            {"label": "Cycling infrastructure design"},
        ],
        # cyclist and cab-driver are curated roles the demo hands out; the demo has no
        # engineer role, so two transport engineers register below with it as free text.
        "perspectives": [
            {"role": "cyclist", "min": 2, "max": 3},
            {"role": "cab driver", "min": 1, "max": 2},
            {"role": "transport engineer", "min": 1, "max": 2},
        ],
        "place": {**MANCHESTER, "radius_km": 15},
        "hours": 2,
        "deadline": _deadline(),
        "panel_size": 6,
        "confidentiality": "public",
    }


def niche_call(title: str, skill: str) -> dict[str, Any]:
    return {
        "title": title,
        "description": f"We need people who know about {skill.lower()}.",
        "skills": [{"label": skill}],
        "deadline": _deadline(),
        "panel_size": 3,
    }


async def wait_for(
    predicate: Callable[[], Awaitable[bool]], *, timeout: float, interval: float = 0.05
) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if await predicate():
            return time.monotonic() - started
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


class Council:
    """The gateway as a public body, an admin and citizens see it."""

    def __init__(
        self, client: httpx.AsyncClient, api_key: str, admin_token: str, matcher_dsn: str = ""
    ) -> None:
        self.client = client
        self.matcher_dsn = matcher_dsn
        # Where a notification worker runs, it may send (and blank) a verification email
        # before the outbox is read: then the link is read from the delivered mail.
        self.mailbox: Callable[[str], Iterable[str]] | None = None
        self.last_email = ""
        self.body = {"X-API-Key": api_key}
        self.admin = {"Authorization": f"Bearer {admin_token}"}

    async def post_call(self, call: dict[str, Any]) -> str:
        response = await self.client.post("/v1/calls", headers=self.body, json=call)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def match(self, call_id: str) -> dict[str, Any]:
        response = await self.client.post(f"/v1/calls/{call_id}/match", headers=self.body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def evidence_texts(self, call_id: str) -> set[str]:
        result = await self.match(call_id)
        return {e["text"] for c in result["candidates"] for e in c["evidence"]}

    async def profiles_head(self) -> int:
        response = await self.client.get(
            "/v1/admin/changes", headers=self.admin, params={"after": 0, "limit": 1}
        )
        assert response.status_code == 200, response.text
        return int(response.json()["head_seq"])

    async def index_status(self) -> dict[str, Any]:
        response = await self.client.get("/v1/admin/index/status", headers=self.admin)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def caught_up(self) -> bool:
        return (await self.index_status())["last_seq"] == await self.profiles_head()

    async def citizen(
        self,
        *,
        skills: list[str],
        roles: list[str] = (),  # type: ignore[assignment]
        verify: bool = True,
    ) -> dict[str, str]:
        """verify=False: the citizen follows the emailed link later (verify_later)."""
        email = f"c-{uuid.uuid4().hex[:10]}@calls.e2e.example"
        self.last_email = email
        registered = await self.client.post(
            "/v1/citizens", json={"email": email, "password": PASSWORD, "display_name": "C"}
        )
        assert registered.status_code == 201, registered.text
        if self.matcher_dsn and verify:
            mailbox = self.mailbox
            await verify_from_outbox(
                self.client,
                self.matcher_dsn,
                email,
                PASSWORD,
                delivered=(lambda: mailbox(email)) if mailbox is not None else None,
            )
        token = await self.client.post(
            "/v1/auth/token", data={"username": email, "password": PASSWORD}
        )
        assert token.status_code == 200, token.text
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        placed = await self.client.patch(
            "/v1/me", headers=headers, json={"place": MANCHESTER, "languages": ["en"]}
        )
        assert placed.status_code == 200, placed.text
        for label in skills:
            await self.add_skill(headers, label)
        for role in roles:
            added = await self.client.post("/v1/me/roles", headers=headers, json={"role": role})
            assert added.status_code == 201, added.text
        return headers

    async def add_skill(self, headers: dict[str, str], label: str) -> None:
        added = await self.client.post(
            "/v1/me/skills", headers=headers, json={"label": label, "level": "can_do"}
        )
        assert added.status_code == 201, added.text

    async def erase(self, headers: dict[str, str]) -> None:
        erased = await self.client.delete("/v1/me", headers=headers)
        assert erased.status_code == 204, erased.text


async def test_public_body_journey_with_demo_citizens_and_a_matcher_crash(suite: Suite) -> None:
    timings: dict[str, float] = {}
    bootstrap = json.loads(
        run_module(
            "convene_gateway.bootstrap",
            "--dsn", suite.cluster.dsn(suite.database, role="convene_gateway"),
            "--admin-email", ADMIN_EMAIL, "--admin-password", ADMIN_PASSWORD,
            "--organisation", "Manchester City Council", "--print-api-key",
        )
    )  # fmt: skip
    # Demo citizens straight into the running profiles database: the matcher tails the feed.
    run_module(
        "scripts.demo.citizens",
        "--dsn", suite.cluster.dsn(suite.database, role="convene_profiles"),
        "--count", "300", "--seed", "7",
    )  # fmt: skip
    async with httpx.AsyncClient(base_url=suite.url("gateway"), timeout=60) as client:
        token = await client.post(
            "/v1/auth/token", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        assert token.status_code == 200, token.text
        council = Council(
            client,
            bootstrap["api_key"],
            token.json()["access_token"],
            suite.cluster.dsn(suite.database, role="convene_matcher"),
        )

        engineers = [
            await council.citizen(
                skills=["Traffic engineering", "Junction signal design"],
                roles=["transport engineer"],
            )
            for _ in range(2)
        ]
        timings["demo caught up"] = await wait_for(council.caught_up, timeout=120, interval=0.2)
        assert (await council.index_status())["citizens"] >= 302

        # -- the bike-lane call: a panel with every quota met, each member explained ------
        bike = await council.post_call(bike_lane_call())
        started = time.monotonic()
        result = await council.match(bike)
        timings["bike-lane match"] = time.monotonic() - started
        assert result["unmet"] == [], result["unmet"]
        panel = {member["ref"]: member["fills"] for member in result["panel"]}
        assert len(panel) == 6
        fills = [role for roles in panel.values() for role in roles]
        assert fills.count("cyclist") >= 2
        assert fills.count("cab driver") >= 1
        assert fills.count("transport engineer") >= 1
        candidates = {candidate["ref"]: candidate for candidate in result["candidates"]}
        for ref, member_fills in panel.items():
            assert member_fills, ref  # why they are on the panel
            assert candidates[ref]["evidence"], ref  # what they know that matched
        assert "@" not in json.dumps(result)

        # -- a new skill reaches matching within 2 s; an erasure removes the person -------
        beekeeping = await council.post_call(
            niche_call("Bees on council rooftops", "Urban beekeeping")
        )
        skill = "Urban beekeeping and hive inspection"
        assert skill not in await council.evidence_texts(beekeeping)
        keeper = await council.citizen(skills=[])
        started = time.monotonic()
        await council.add_skill(keeper, skill)

        async def keeper_found() -> bool:
            return skill in await council.evidence_texts(beekeeping)

        await wait_for(keeper_found, timeout=10)
        timings["skill -> matching"] = time.monotonic() - started
        assert timings["skill -> matching"] < MAX_PROPAGATION_SECONDS

        started = time.monotonic()
        await council.erase(keeper)

        async def keeper_gone() -> bool:
            return skill not in await council.evidence_texts(beekeeping)

        await wait_for(keeper_gone, timeout=10)
        timings["erasure -> matching"] = time.monotonic() - started
        assert timings["erasure -> matching"] < MAX_PROPAGATION_SECONDS

        # -- the matcher is killed; changes made while it is down are not lost -------------
        canal_skill, forage_skill = "Restoring canal lock gates", "Urban foraging walks"
        canals = await council.post_call(niche_call("Reopening the canal locks", canal_skill))
        foraging = await council.post_call(niche_call("Edible parks", forage_skill))
        forager = await council.citizen(skills=[forage_skill])
        await wait_for(lambda: _has(council, foraging, forage_skill), timeout=10)

        suite.stop("matcher", kill=True)
        down = await client.post(f"/v1/calls/{canals}/match", headers=council.body)
        assert down.status_code == 503, down.text
        assert down.headers["retry-after"]
        # Registered while the matcher is down: the verification email cannot be queued
        # then; the citizen asks for it again once the matcher is back.
        restorer = await council.citizen(skills=[canal_skill], verify=False)
        restorer_email = council.last_email
        await council.erase(forager)
        await council.erase(engineers[1])
        head = await council.profiles_head()

        started = time.monotonic()
        suite.start("matcher")
        suite.wait_ready("matcher", timeout=180)
        await verify_from_outbox(client, council.matcher_dsn, restorer_email, PASSWORD)
        head = await council.profiles_head()  # the verification is one more change
        await wait_for(council.caught_up, timeout=60, interval=0.2)
        timings["restart -> caught up"] = time.monotonic() - started
        status = await council.index_status()
        assert status["last_seq"] == await council.profiles_head() == head
        assert canal_skill in await council.evidence_texts(canals)
        assert forage_skill not in await council.evidence_texts(foraging)
        after = await council.match(bike)
        assert after["unmet"] == [], after["unmet"]
        assert restorer  # registered while the matcher was down, matched after

    print("calls e2e timings (s):", json.dumps({k: round(v, 3) for k, v in timings.items()}))  # noqa: T201


async def _has(council: Council, call_id: str, text: str) -> bool:
    return text in await council.evidence_texts(call_id)
