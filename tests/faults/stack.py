"""A whole Convene suite for fault injection: its own PostgreSQL cluster (so crashing it
disturbs nothing else), the three services as processes on loopback, an admin, a public body
with an API key, and small helpers the fault tests share.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from convene_common.embedded_pg import EmbeddedPostgres, free_port
from scripts.suite import SERVICES, Suite, prepare_database, run_module

DATABASE = "convene_faults"
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@faults.example", "admin-password-for-fault-tests"
PASSWORD = "a long enough password"
# The gateway's budget for one downstream call: small, so a hang is seen quickly.
DOWNSTREAM_DEADLINE_SECONDS = 3.0


@dataclass
class FaultStack:
    cluster: EmbeddedPostgres
    suite: Suite
    api_key: str
    admin_token: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def gateway(self) -> str:
        return self.suite.url("gateway")

    @property
    def body(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key}

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    @property
    def internal(self) -> dict[str, str]:
        return {"X-Internal-Token": self.suite.internal_token}

    def pid(self, name: str) -> int:
        return self.suite.processes[name].process.pid

    def login_admin(self) -> None:
        response = httpx.post(
            f"{self.gateway}/v1/auth/token",
            data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        self.admin_token = response.json()["access_token"]

    def log_lines(self, *needles: str, last: int = 20) -> str:
        """The services' log lines that contain any of `needles` (for failure messages)."""
        found: list[str] = []
        for path in sorted((self.suite.run_dir / "logs").glob("*.log")):
            for line in path.read_text(errors="replace").splitlines():
                if any(needle in line for needle in needles):
                    found.append(f"{path.stem}: {line[:2000]}")
        return "\n".join(found[-last:])

    def ensure_healthy(self) -> None:
        """Before each test: the database and every service up (an earlier failure may have
        left one down or stopped)."""
        for name in SERVICES:
            service = self.suite.processes.get(name)
            if service is not None and service.process.poll() is None:
                os.kill(service.process.pid, signal.SIGCONT)
        if not self.cluster.running():
            self.cluster.start()
        for name in SERVICES:
            service = self.suite.processes.get(name)
            if service is None or service.process.poll() is not None:
                self.suite.start(name)
        self.suite.wait_all_ready(timeout=180)


def service_env(**settings: str) -> dict[str, str]:
    return {key.upper(): value for key, value in settings.items()}


@contextmanager
def fault_stack(base: Path) -> Iterator[FaultStack]:
    cluster = EmbeddedPostgres(base / "pg")
    cluster.start()
    suite: Suite | None = None
    try:
        asyncio.run(prepare_database(cluster, DATABASE))
        bootstrap = json.loads(
            run_module(
                "convene_gateway.bootstrap",
                "--dsn", cluster.dsn(DATABASE, role="convene_gateway"),
                "--admin-email", ADMIN_EMAIL, "--admin-password", ADMIN_PASSWORD,
                "--organisation", "Fault City Council", "--print-api-key",
            )
        )  # fmt: skip
        gateway = "CONVENE_GATEWAY_"
        suite = Suite(
            cluster=cluster,
            database=DATABASE,
            ports={name: free_port() for name in SERVICES},
            run_dir=base,
            internal_token=secrets.token_urlsafe(16),
            jwt_secret=secrets.token_urlsafe(32),
            environment="test",
            extra_env={
                "gateway": {
                    gateway + "ARGON2_TIME_COST": "1",
                    gateway + "ARGON2_MEMORY_COST_KIB": "1024",
                    gateway + "ARGON2_PARALLELISM": "1",
                    gateway + "RATE_LIMITS": json.dumps({"enabled": False}),
                    gateway + "DOWNSTREAM_DEADLINE_SECONDS": str(DOWNSTREAM_DEADLINE_SECONDS),
                    gateway + "DOWNSTREAM_READ_TIMEOUT_SECONDS": "2",
                    gateway + "MATCHER_READ_TIMEOUT_SECONDS": "2.5",
                    gateway + "DOWNSTREAM_RETRY_AFTER_SECONDS": "2",
                },
                "matcher": {
                    "CONVENE_MATCHER_FEED_POLL_SECONDS": "0.2",
                    "CONVENE_MATCHER_FEED_WAIT_SECONDS": "2",
                    "CONVENE_MATCHER_TORCH_THREADS": "1",
                },
            },
        )
        suite.start_all()
        suite.wait_all_ready(timeout=240)
        stack = FaultStack(cluster=cluster, suite=suite, api_key=bootstrap["api_key"])
        stack.login_admin()
        yield stack
    finally:
        if suite is not None:
            for name in list(suite.processes):
                os.kill(suite.processes[name].process.pid, signal.SIGCONT)
            suite.stop_all()
        cluster.stop(mode="immediate")


def call_body(title: str, *, skill: str = "Urban planning") -> dict[str, Any]:
    return {
        "title": title,
        "description": f"We need people who know about {skill.lower()}.",
        "skills": [{"label": skill}],
        "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "panel_size": 3,
    }


def new_email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@faults.example"


async def wait_for(
    predicate: Callable[[], Awaitable[bool]], *, timeout: float, interval: float = 0.05
) -> float:
    """Seconds until `predicate` held; fails after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if await predicate():
                return time.monotonic() - started
        except (httpx.HTTPError, AssertionError):
            pass  # not answering (well) yet is "not yet"
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


async def ready_status(client: httpx.AsyncClient, url: str) -> int:
    response = await client.get(f"{url}/readyz", timeout=5)
    return response.status_code


async def walk(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], *, limit: int = 100
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(10_000):
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        response = await client.get(url, headers=headers, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError(f"{url}: pagination did not end")


async def profiles_head(stack: FaultStack, client: httpx.AsyncClient) -> int:
    response = await client.get(
        f"{stack.gateway}/v1/admin/changes", headers=stack.admin, params={"limit": 1}
    )
    assert response.status_code == 200, response.text
    return int(response.json()["head_seq"])


async def index_status(stack: FaultStack, client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get(f"{stack.gateway}/v1/admin/index/status", headers=stack.admin)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def caught_up(stack: FaultStack, client: httpx.AsyncClient) -> bool:
    status = await client.get(f"{stack.gateway}/v1/admin/index/status", headers=stack.admin)
    if status.status_code != 200:
        return False
    return int(status.json()["last_seq"]) == await profiles_head(stack, client)
