"""The gateway's downstreams fail: the matcher is SIGKILLed, profiles or the matcher hang.

Matcher killed while the change feed flows (citizens created, given skills and erased in
profiles throughout) and while a public body routes a call through the gateway in a loop:
the gateway answers 503 with Retry-After meanwhile and never hangs; after a restart the index
reflects every change exactly once (last_seq == profiles' head, as many citizens as profiles
holds, a citizen erased while it was down absent, one registered while it was down present
once).

A downstream that hangs (SIGSTOP, later SIGCONT): the gateway gives up within its budget
(downstream_deadline_seconds) with a 504 problem and Retry-After, keeps answering /readyz,
and serves again as soon as the service does.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.faults.stack import (
    DOWNSTREAM_DEADLINE_SECONDS,
    PASSWORD,
    FaultStack,
    call_body,
    caught_up,
    index_status,
    new_email,
    profiles_head,
    wait_for,
    walk,
)

pytestmark = pytest.mark.faults

# A gateway answer may take the downstream budget plus a little; anything longer is a hang.
ANSWER_BUDGET = DOWNSTREAM_DEADLINE_SECONDS + 1.5
RECOVERY_SECONDS = 5.0


@dataclass
class Routed:
    statuses: Counter[int] = field(default_factory=Counter)
    slowest: float = 0.0
    retry_after_missing: int = 0
    exceptions: list[str] = field(default_factory=list)


async def route_in_a_loop(
    stack: FaultStack, client: httpx.AsyncClient, call_id: str, stop: asyncio.Event
) -> Routed:
    routed = Routed()
    for _ in range(10_000):
        if stop.is_set():
            break
        started = time.monotonic()
        try:
            response = await client.post(
                f"{stack.gateway}/v1/calls/{call_id}/match", headers=stack.body, timeout=30
            )
        except httpx.HTTPError as exc:
            routed.exceptions.append(type(exc).__name__)
            continue
        routed.slowest = max(routed.slowest, time.monotonic() - started)
        routed.statuses[response.status_code] += 1
        if response.status_code == 503 and "retry-after" not in response.headers:
            routed.retry_after_missing += 1
        await asyncio.sleep(0.05)
    return routed


class FeedWriter:
    """Citizens made, given a skill and some erased in profiles, as fast as it answers."""

    def __init__(self, stack: FaultStack, client: httpx.AsyncClient) -> None:
        self.stack, self.client = stack, client
        self.url = stack.suite.url("profiles")
        self.created: list[str] = []
        self.erased: list[str] = []

    async def citizen(self, skill: str | None = None) -> str:
        citizen_id = str(uuid.uuid4())
        response = await self.client.post(
            f"{self.url}/v1/citizens",
            headers=self.stack.internal,
            json={"id": citizen_id, "email": new_email("feed"), "display_name": "Feed Tester"},
        )
        assert response.status_code == 201, response.text
        if skill is not None:
            added = await self.client.post(
                f"{self.url}/v1/citizens/{citizen_id}/skills",
                headers=self.stack.internal,
                json={"label": skill, "level": "can_do"},
            )
            assert added.status_code == 201, added.text
        self.created.append(citizen_id)
        return citizen_id

    async def erase(self, citizen_id: str) -> None:
        response = await self.client.delete(
            f"{self.url}/v1/citizens/{citizen_id}", headers=self.stack.internal
        )
        assert response.status_code == 204, response.text
        self.erased.append(citizen_id)

    async def run(self, stop: asyncio.Event) -> None:
        for number in range(10_000):
            if stop.is_set():
                return
            citizen_id = await self.citizen(f"Feed skill {number % 7}")
            if number % 3 == 0:
                await self.erase(citizen_id)
            await asyncio.sleep(0.02)


async def evidence_texts(stack: FaultStack, client: httpx.AsyncClient, call_id: str) -> list[str]:
    response = await client.post(
        f"{stack.gateway}/v1/calls/{call_id}/match", headers=stack.body, timeout=30
    )
    assert response.status_code == 200, response.text
    return [e["text"] for c in response.json()["candidates"] for e in c["evidence"]]


async def post_call(stack: FaultStack, client: httpx.AsyncClient, body: dict[str, Any]) -> str:
    response = await client.post(f"{stack.gateway}/v1/calls", headers=stack.body, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_matcher_sigkill_while_the_feed_flows_and_calls_are_routed(
    stack: FaultStack,
) -> None:
    tag = uuid.uuid4().hex[:6]
    victim_skill = f"Victorian pump restoration {tag}"
    newcomer_skill = f"Restoring canal lock gates {tag}"
    timings: dict[str, float] = {}
    async with httpx.AsyncClient(timeout=30) as client:
        writer = FeedWriter(stack, client)
        victim = await writer.citizen(victim_skill)
        await wait_for(lambda: caught_up(stack, client), timeout=30, interval=0.1)
        pumps = await post_call(stack, client, call_body("Old pumps", skill=victim_skill))
        canals = await post_call(stack, client, call_body("Canal locks", skill=newcomer_skill))
        assert victim_skill in await evidence_texts(stack, client, pumps)

        stop = asyncio.Event()
        feed = asyncio.create_task(writer.run(stop))
        router = asyncio.create_task(route_in_a_loop(stack, client, pumps, stop))
        try:
            await asyncio.sleep(1.5)
            stack.suite.stop("matcher", kill=True)  # SIGKILL, mid-feed and mid-routing
            killed = time.monotonic()
            await writer.erase(victim)
            newcomer = await writer.citizen(newcomer_skill)
            await asyncio.sleep(2.0)
            down = await client.post(
                f"{stack.gateway}/v1/calls/{pumps}/match", headers=stack.body, timeout=30
            )
            assert down.status_code == 503, down.text
            assert int(down.headers["retry-after"]) > 0
            assert down.json()["type"].endswith("/downstream-unavailable")

            stack.suite.start("matcher")
            await asyncio.to_thread(stack.suite.wait_ready, "matcher", timeout=180)
            timings["matcher down"] = time.monotonic() - killed
            await asyncio.sleep(1.0)  # routing and the feed flow on the new process
        finally:
            stop.set()
            routed = await router
            await feed
        timings["caught up"] = await wait_for(
            lambda: caught_up(stack, client), timeout=60, interval=0.1
        )
        status = await index_status(stack, client)
        head = await profiles_head(stack, client)
        live = await walk(client, f"{stack.suite.url('profiles')}/v1/citizens", stack.internal)
        pump_texts = await evidence_texts(stack, client, pumps)
        canal_texts = await evidence_texts(stack, client, canals)
    print(  # noqa: T201
        "\nmatcher SIGKILL:",
        {k: round(v, 2) for k, v in timings.items()},
        f"routed={dict(routed.statuses)} slowest={routed.slowest:.2f}s",
        f"feed: created={len(writer.created)} erased={len(writer.erased)}",
        f"index: citizens={status['citizens']} last_seq={status['last_seq']} head={head}",
    )
    assert not routed.exceptions, routed.exceptions
    assert set(routed.statuses) <= {200, 503}, routed.statuses
    assert routed.statuses[200] > 0
    assert routed.statuses[503] > 0
    assert routed.retry_after_missing == 0
    assert routed.slowest < ANSWER_BUDGET
    # Every change exactly once: the index is at profiles' head, with profiles' citizens.
    assert status["last_seq"] == head
    assert status["citizens"] == len(live)
    live_ids = {citizen["id"] for citizen in live}
    assert newcomer in live_ids
    assert victim not in live_ids
    assert victim_skill not in pump_texts  # erased while the matcher was down
    assert canal_texts.count(newcomer_skill) == 1  # registered while it was down, once


def _pause(stack: FaultStack, name: str) -> None:
    os.kill(stack.pid(name), signal.SIGSTOP)


def _resume(stack: FaultStack, name: str) -> None:
    os.kill(stack.pid(name), signal.SIGCONT)


async def _timed(
    client: httpx.AsyncClient, method: str, url: str, **kwargs: Any
) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await client.request(method, url, timeout=30, **kwargs)
    return response, time.monotonic() - started


@pytest.mark.parametrize("hung", ["profiles", "matcher"])
async def test_a_hanging_downstream_times_out_within_budget_and_recovers(
    stack: FaultStack, hung: str
) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        if hung == "profiles":
            email = new_email("hang")
            registered = await client.post(
                f"{stack.gateway}/v1/citizens",
                json={"email": email, "password": PASSWORD, "display_name": "Hang Tester"},
            )
            assert registered.status_code == 201, registered.text
            token = await client.post(
                f"{stack.gateway}/v1/auth/token", data={"username": email, "password": PASSWORD}
            )
            assert token.status_code == 200, token.text
            method, url = "GET", f"{stack.gateway}/v1/me"
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        else:
            call_id = await post_call(stack, client, call_body("Hanging matcher"))
            method, url = "POST", f"{stack.gateway}/v1/calls/{call_id}/match"
            headers = stack.body
        healthy, _ = await _timed(client, method, url, headers=headers)
        assert healthy.status_code == 200, healthy.text

        _pause(stack, hung)
        try:
            answers = await asyncio.gather(
                *(_timed(client, method, url, headers=headers) for _ in range(8))
            )
            ready, ready_seconds = await _timed(client, "GET", f"{stack.gateway}/readyz")
        finally:
            _resume(stack, hung)

        async def serves_again() -> bool:
            response = await client.request(method, url, headers=headers, timeout=30)
            return response.status_code == 200

        recovery = await wait_for(serves_again, timeout=RECOVERY_SECONDS, interval=0.1)
    slowest = max(seconds for _, seconds in answers)
    print(  # noqa: T201
        f"\n{hung} hangs: answers={Counter(r.status_code for r, _ in answers)} "
        f"slowest={slowest:.2f}s (deadline {DOWNSTREAM_DEADLINE_SECONDS}s) "
        f"readyz={ready.status_code} in {ready_seconds:.2f}s recovery={recovery:.2f}s"
    )
    for response, seconds in answers:
        assert response.status_code == 504, response.text
        problem = response.json()
        assert problem["type"].endswith("/downstream-timeout"), problem
        assert hung in problem["detail"], problem
        assert int(response.headers["retry-after"]) > 0
        assert seconds < ANSWER_BUDGET
    # The gateway stays in service (a downstream's hang is not the gateway's own failure).
    assert ready.status_code == 200, ready.text
    assert ready_seconds < ANSWER_BUDGET
