"""PostgreSQL crashes (an immediate stop) while citizens register and calls are posted.

Writers go through the gateway as clients would: registrations (retried with the same email:
the gateway picks the citizen id once, so a retry completes the same registration) and calls
(retried with the same Idempotency-Key and body). Every write is retried until it is
acknowledged (2xx) or the test's bounded time runs out. Asserted:

- during the outage every service's /readyz answers 503, and failed writes get a clear 503
  (or 504) problem with Retry-After, never a 500 or a hang;
- after the database returns, every service is ready again by itself within 5 s, and a write
  is acknowledged again within 5 s (both measured and printed);
- 0 acknowledged writes lost: every acknowledged citizen is in profiles and can log in, every
  acknowledged call is listed with the id it was acknowledged with;
- 0 duplicates: one citizen per email, one call per Idempotency-Key.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from scripts.suite import SERVICES
from tests.faults.stack import (
    PASSWORD,
    FaultStack,
    call_body,
    caught_up,
    index_status,
    new_email,
    profiles_head,
    ready_status,
    wait_for,
    walk,
)

pytestmark = pytest.mark.faults

RECOVERY_SECONDS = 5.0
OUTAGE_SECONDS = 3.0
REGISTRATION_WRITERS, CALL_WRITERS = 3, 2
REQUEST_TIMEOUT = 20.0  # a request that takes longer is a hang
ITEM_DEADLINE = 40.0  # one write retried for at most this long


@dataclass
class Ledger:
    registrations: dict[str, str | None] = field(default_factory=dict)  # email -> citizen id
    calls: dict[str, str | None] = field(default_factory=dict)  # key -> call id
    titles: dict[str, str] = field(default_factory=dict)  # key -> title
    failures: Counter[str] = field(default_factory=Counter)  # "status slug" of refusals
    retry_after_missing: int = 0
    slowest: float = 0.0
    acked_at: list[float] = field(default_factory=list)


async def _attempt(
    client: httpx.AsyncClient, ledger: Ledger, method: str, url: str, **kwargs: Any
) -> httpx.Response:
    started = time.monotonic()
    response = await client.request(method, url, timeout=REQUEST_TIMEOUT, **kwargs)
    ledger.slowest = max(ledger.slowest, time.monotonic() - started)
    if response.status_code >= 500:
        slug = str(response.json().get("type", "")).rsplit("/", 1)[-1]
        ledger.failures[f"{response.status_code} {slug}"] += 1
        if "retry-after" not in response.headers:
            ledger.retry_after_missing += 1
    return response


async def register_writer(
    stack: FaultStack, client: httpx.AsyncClient, ledger: Ledger, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        email = new_email("crash")
        ledger.registrations[email] = None
        body = {"email": email, "password": PASSWORD, "display_name": "Crash Tester"}
        deadline = time.monotonic() + ITEM_DEADLINE
        for attempt in range(1, 10_000):
            assert time.monotonic() < deadline, f"registration of {email} never acknowledged"
            response = await _attempt(
                client, ledger, "POST", f"{stack.gateway}/v1/citizens", json=body
            )
            if response.status_code == 201:
                # A retry of a registration whose answer was lost meets a taken address, and a
                # taken address is answered like a new one (no enumeration): its id is not the
                # account's. Such an ack is checked by address only ("").
                ledger.registrations[email] = response.json()["id"] if attempt == 1 else ""
                ledger.acked_at.append(time.monotonic())
                break
            if response.status_code == 409 and attempt > 1:
                break  # an earlier attempt completed, but its answer was lost: not acked
            assert response.status_code >= 500, response.text
            await asyncio.sleep(0.1)


async def call_writer(
    stack: FaultStack, client: httpx.AsyncClient, ledger: Ledger, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        key = str(uuid.uuid4())
        title = f"Crash call {key}"
        ledger.calls[key], ledger.titles[key] = None, title
        body = call_body(title)  # one body per key: a retry sends exactly the same request
        headers = {**stack.body, "Idempotency-Key": key}
        deadline = time.monotonic() + ITEM_DEADLINE
        while True:
            assert time.monotonic() < deadline, f"call {key} never acknowledged"
            response = await _attempt(
                client, ledger, "POST", f"{stack.gateway}/v1/calls", json=body, headers=headers
            )
            if response.status_code == 201:
                ledger.calls[key] = response.json()["id"]
                ledger.acked_at.append(time.monotonic())
                break
            assert response.status_code >= 500, response.text
            await asyncio.sleep(0.1)


async def test_database_crash_under_write_load(stack: FaultStack) -> None:
    ledger = Ledger()
    stop = asyncio.Event()
    timings: dict[str, float] = {}
    urls = {name: stack.suite.url(name) for name in SERVICES}
    limits = httpx.Limits(max_connections=32)
    async with httpx.AsyncClient(limits=limits) as client, httpx.AsyncClient() as probe:
        writers = [
            asyncio.create_task(register_writer(stack, client, ledger, stop))
            for _ in range(REGISTRATION_WRITERS)
        ] + [
            asyncio.create_task(call_writer(stack, client, ledger, stop))
            for _ in range(CALL_WRITERS)
        ]
        try:
            await asyncio.sleep(1.5)
            acked_before = len(ledger.acked_at)
            assert acked_before > 0, "no write was acknowledged before the crash"

            # -- crash: every service says 503 on /readyz ---------------------------------
            killed = time.monotonic()
            await asyncio.to_thread(stack.cluster.kill)
            for name, url in urls.items():

                async def unready(url: str = url) -> bool:
                    return await ready_status(probe, url) == 503

                timings[f"{name} readyz 503 after crash"] = await wait_for(unready, timeout=10)
            await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - killed)))
            for name, url in urls.items():
                assert await ready_status(probe, url) == 503, f"{name} ready without a database"
            failures_during_outage = sum(ledger.failures.values())

            # -- the database returns: every service recovers by itself --------------------
            await asyncio.to_thread(stack.cluster.start)
            returned = time.monotonic()
            timings["outage"] = returned - killed
            acked_at_return = len(ledger.acked_at)
            heads: list[int] = []

            async def head_known() -> bool:
                heads.append(await profiles_head(stack, probe))
                return True

            await wait_for(head_known, timeout=RECOVERY_SECONDS + 10)
            head_at_return = heads[-1]

            async def recovered(name: str) -> None:
                async def ready() -> bool:
                    return await ready_status(probe, urls[name]) == 200

                timings[f"{name} ready after return"] = await wait_for(
                    ready, timeout=RECOVERY_SECONDS + 10
                )

            async def feed_applies_new_changes() -> bool:
                status = await index_status(stack, probe)
                return int(status["last_seq"]) > head_at_return

            async def feed_recovered() -> None:
                timings["matcher feed applying again after return"] = await wait_for(
                    feed_applies_new_changes, timeout=RECOVERY_SECONDS + 30, interval=0.1
                )

            await asyncio.gather(*(recovered(name) for name in SERVICES), feed_recovered())

            async def write_acknowledged() -> bool:
                return len(ledger.acked_at) > acked_at_return

            await wait_for(write_acknowledged, timeout=RECOVERY_SECONDS + 10)
            timings["first acked write after return"] = (
                min(t for t in ledger.acked_at[acked_at_return:]) - returned
            )
            await asyncio.sleep(1.5)  # writes flow again for a while
        finally:
            stop.set()
            results = await asyncio.gather(*writers, return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        assert not errors, errors

        async def feed_caught_up() -> bool:
            return await caught_up(stack, client)

        timings["matcher feed caught up after writes stop"] = await wait_for(
            feed_caught_up, timeout=30, interval=0.2
        )
        citizens = await walk(client, f"{urls['profiles']}/v1/citizens", stack.internal)
        calls = await walk(client, f"{stack.gateway}/v1/calls", stack.body)
        logins = await asyncio.gather(
            *(
                client.post(
                    f"{stack.gateway}/v1/auth/token",
                    data={"username": email, "password": PASSWORD},
                    timeout=REQUEST_TIMEOUT,
                )
                for email, citizen_id in ledger.registrations.items()
                if citizen_id is not None
            )
        )

    acked_citizens = {e: c for e, c in ledger.registrations.items() if c is not None}
    acked_calls = {k: c for k, c in ledger.calls.items() if c is not None}
    print(  # noqa: T201
        "\ndatabase crash:",
        {k: round(v, 2) for k, v in timings.items()},
        f"acked citizens={len(acked_citizens)}/{len(ledger.registrations)}",
        f"acked calls={len(acked_calls)}/{len(ledger.calls)}",
        f"refusals={dict(ledger.failures)} slowest={ledger.slowest:.2f}s",
    )
    assert failures_during_outage > 0, "no write was attempted during the outage"
    for name in SERVICES:
        assert timings[f"{name} ready after return"] <= RECOVERY_SECONDS, timings
    assert timings["matcher feed applying again after return"] <= RECOVERY_SECONDS, timings
    assert timings["first acked write after return"] <= RECOVERY_SECONDS, timings
    # A clear, retryable problem while the database is away; never a 500 or a hang.
    assert {failure.split()[0] for failure in ledger.failures} <= {"503", "504"}, (
        f"{dict(ledger.failures)}\n{stack.log_lines('unhandled', 'downstream error', last=6)}"
    )
    assert ledger.retry_after_missing == 0
    assert ledger.slowest < REQUEST_TIMEOUT

    # 0 acknowledged writes lost, 0 duplicates.
    by_email = Counter(citizen["email"] for citizen in citizens)
    crash_emails = {email for email in by_email if email.startswith("crash-")}
    assert all(by_email[email] == 1 for email in crash_emails), "a citizen was created twice"
    profile_ids = {citizen["email"]: citizen["id"] for citizen in citizens}
    for email, citizen_id in acked_citizens.items():
        assert email in profile_ids, f"acknowledged citizen {email} lost"
        if citizen_id:
            assert profile_ids[email] == citizen_id, f"acknowledged citizen {email} lost"
    assert crash_emails <= set(ledger.registrations)
    assert all(login.status_code == 200 for login in logins), [
        login.text for login in logins if login.status_code != 200
    ][:3]
    by_title = Counter(call["title"] for call in calls)
    assert all(count == 1 for count in by_title.values()), "a call was created twice"
    listed = {call["title"]: call["id"] for call in calls}
    for key, call_id in acked_calls.items():
        assert listed.get(ledger.titles[key]) == call_id, f"acknowledged call {key} lost"
