"""Two matcher processes behind one gateway (CONVENE_GATEWAY_MATCHER_URL with two URLs).

Real processes on loopback over one database and small demo data: the gateway spreads calls
over both ready matchers; a call matched with the same seed gives the same panel through
either; and with one matcher SIGKILLed mid-load, every request the client retries with its
Idempotency-Key succeeds exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from convene_common.embedded_pg import EmbeddedPostgres, free_port
from scripts.suite import Suite, run_module

MATCH_ROUTE = "/v1/calls/{call_id}/match"
RETRYABLE = {502, 503, 504}


def call_body(title: str) -> dict[str, Any]:
    return {
        "title": title,
        "description": "How should the council support people who care for a relative at home?",
        "skills": [{"label": "social care"}, {"label": "nursing"}, {"label": "community work"}],
        "hours": 2,
        "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "panel_size": 3,
    }


def samples(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{url}/metrics", timeout=5).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def metric(url: str, name: str, **labels: str) -> float:
    return sum(
        value
        for (sample, sample_labels), value in samples(url).items()
        if sample == name and all(dict(sample_labels).get(k) == v for k, v in labels.items())
    )


def wait_for(condition: Any, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"{what} not within {timeout}s")


class Stack:
    def __init__(self, suite: Suite, matcher_urls: list[str], api_key: str) -> None:
        self.suite = suite
        self.matcher_urls = matcher_urls
        self.headers = {"X-API-Key": api_key}


@pytest.fixture(scope="module")
async def stack(
    pg_cluster: EmbeddedPostgres, template_database: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    database = f"replicas_{uuid.uuid4().hex[:12]}"
    await pg_cluster.create_database_from_template(database, template_database)
    run_dir = Path(tmp_path_factory.mktemp("replicas"))
    ports = {name: free_port() for name in ("profiles", "matcher", "gateway")}
    second_port = free_port()
    matcher_urls = [f"http://127.0.0.1:{ports['matcher']}", f"http://127.0.0.1:{second_port}"]
    suite = Suite(
        cluster=pg_cluster,
        database=database,
        ports=ports,
        run_dir=run_dir,
        internal_token=secrets.token_urlsafe(16),
        jwt_secret=secrets.token_urlsafe(32),
        environment="test",
        extra_env={
            "matcher": {"CONVENE_MATCHER_FEED_POLL_SECONDS": "0.2"},
            "gateway": {
                "CONVENE_GATEWAY_MATCHER_URL": ",".join(matcher_urls),
                "CONVENE_GATEWAY_DOWNSTREAM_RETRY_BACKOFF_SECONDS": "0",
            },
        },
    )
    run_module(
        "scripts.demo.citizens",
        "--dsn", pg_cluster.dsn(database, role="convene_profiles"),
        "--count", "60", "--seed", "7", "--if-empty",
    )  # fmt: skip
    bootstrap = json.loads(
        run_module(
            "convene_gateway.bootstrap",
            "--dsn", pg_cluster.dsn(database, role="convene_gateway"),
            "--admin-email", "admin@example.org", "--admin-password", "admin-password-123",
            "--organisation", "Replica Council", "--print-api-key",
        )
    )  # fmt: skip
    try:
        suite.start("profiles")
        suite.start("matcher")
        second_env = {
            **suite.service_env("matcher"),
            "CONVENE_MATCHER_PORT": str(second_port),
            "CONVENE_MATCHER_INDEX_DIR": str(run_dir / "matcher-2-index"),
        }
        suite.start_process(
            "matcher-2",
            [
                sys.executable, "-m", "uvicorn", "--factory", "convene_matcher.main:app_from_env",
                "--host", "127.0.0.1", "--port", str(second_port), "--no-access-log",
            ],
            env=second_env,
            port=second_port,
        )  # fmt: skip
        suite.start("gateway")
        suite.wait_all_ready(timeout=240)
        wait_for(
            lambda: httpx.get(f"{matcher_urls[1]}/readyz", timeout=2).status_code == 200,
            timeout=240,
            what="the second matcher ready",
        )
        # Both replicas have applied the whole feed (their own /metrics say so).
        wait_for(
            lambda: all(
                metric(url, "convene_feed_head_sequence") > 0
                and metric(url, "convene_feed_lag_sequences") == 0
                for url in matcher_urls
            ),
            timeout=240,
            what="both matchers caught up",
        )
        yield Stack(suite, matcher_urls, bootstrap["api_key"])
    finally:
        suite.stop_all()
        await pg_cluster.drop_database(database)


def test_either_matcher_gives_the_same_panel_for_the_same_seed(stack: Stack) -> None:
    gateway = stack.suite.url("gateway")
    before = [
        metric(url, "convene_http_requests_total", route=MATCH_ROUTE, status="200")
        for url in stack.matcher_urls
    ]
    with httpx.Client(base_url=gateway, headers=stack.headers, timeout=60) as client:
        created = client.post(
            "/v1/calls", json=call_body("Carers at home"), headers={"Idempotency-Key": "same-1"}
        )
        assert created.status_code == 201, created.text
        call_id = created.json()["id"]
        results = []
        for _ in range(6):
            matched = client.post(f"/v1/calls/{call_id}/match", json={"seed": 42})
            assert matched.status_code == 200, matched.text
            results.append(matched.json())
    after = [
        metric(url, "convene_http_requests_total", route=MATCH_ROUTE, status="200")
        for url in stack.matcher_urls
    ]
    served = [a - b for a, b in zip(after, before, strict=True)]
    assert sum(served) == 6
    assert all(count >= 2 for count in served), f"not spread over both matchers: {served}"
    first = results[0]
    assert first["candidates"], "the demo population gave no candidates"
    for other in results[1:]:
        assert other["panel"] == first["panel"]
        assert [c["ref"] for c in other["candidates"]] == [c["ref"] for c in first["candidates"]]
        assert [c["score"] for c in other["candidates"]] == [
            c["score"] for c in first["candidates"]
        ]


async def test_a_matcher_killed_mid_load_loses_no_retried_request(stack: Stack) -> None:
    gateway = stack.suite.url("gateway")
    keys = [f"load-{uuid.uuid4().hex[:12]}" for _ in range(40)]
    outcomes: dict[str, list[int | str]] = {key: [] for key in keys}
    final: dict[str, dict[str, Any]] = {}
    done = 0
    killed = asyncio.Event()

    async def create(client: httpx.AsyncClient, key: str) -> None:
        nonlocal done
        body = call_body(f"Load {key}")  # a retry repeats the very same request
        for _ in range(20):
            try:
                response = await client.post(
                    "/v1/calls", json=body, headers={"Idempotency-Key": key}
                )
            except httpx.TransportError as exc:
                outcomes[key].append(type(exc).__name__)
                await asyncio.sleep(0.2)
                continue
            outcomes[key].append(response.status_code)
            if response.status_code in RETRYABLE:
                await asyncio.sleep(0.2)
                continue
            assert response.status_code == 201, response.text
            final[key] = response.json()
            done += 1
            if done == 10 and not killed.is_set():
                victim = stack.suite.processes["matcher"].process
                os.kill(victim.pid, signal.SIGKILL)
                killed.set()
            return

    limits = httpx.Limits(max_connections=4)
    async with httpx.AsyncClient(
        base_url=gateway, headers=stack.headers, timeout=60, limits=limits
    ) as client:
        queue: asyncio.Queue[str] = asyncio.Queue()
        for key in keys:
            queue.put_nowait(key)

        async def worker() -> None:
            while not queue.empty():
                await create(client, queue.get_nowait())

        await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(4))), timeout=300)

        assert killed.is_set()
        assert set(final) == set(keys), {k: v for k, v in outcomes.items() if k not in final}
        # One call per key: retries never made a second one.
        ids = [final[key]["id"] for key in keys]
        assert len(set(ids)) == len(keys)
        listed: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 100}
            if cursor:
                params["cursor"] = cursor
            page = await client.get("/v1/calls", params=params)
            assert page.status_code == 200, page.text
            listed += [
                item["id"] for item in page.json()["items"] if item["title"].startswith("Load ")
            ]
            cursor = page.json().get("next_cursor")
            if not cursor:
                break
        assert sorted(listed) == sorted(ids)
        # The surviving matcher serves alone now, and the gateway still answers.
        retried = sum(1 for attempts in outcomes.values() if len(attempts) > 1)
        print(f"{retried} of {len(keys)} requests needed a retry after the kill")  # noqa: T201
        assert (await client.get(f"/v1/calls/{ids[-1]}")).status_code == 200
