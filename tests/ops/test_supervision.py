"""`make run` supervision: a crashed process is restarted with backoff (and logged) while the
others keep serving; only a stop request ends it.

The suite runs as real processes on loopback over small demo data, under the same
``Supervisor`` that scripts/run_suite.py uses; each service is SIGKILLed once.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from convene_common.embedded_pg import EmbeddedPostgres, free_port
from scripts.suite import Suite, Supervisor, run_module

RESTART_DEADLINE_SECONDS = 180  # the matcher imports torch and loads its model again
SERVICES = ("profiles", "matcher", "gateway")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_backoff_doubles_up_to_its_cap_and_resets_after_a_stable_run(tmp_path: Path) -> None:
    """A process that keeps exiting is restarted after 0.5, 1, 2, 4 s ... at most the cap."""
    suite = Suite(
        cluster=None,  # type: ignore[arg-type]  # no service here, only a short process
        database="none",
        ports={},
        run_dir=tmp_path,
        internal_token="t",
        jwt_secret="j",
    )
    suite.start_process("crasher", [sys.executable, "-c", "raise SystemExit(3)"], env=os.environ)
    clock = FakeClock()
    lines: list[str] = []
    supervisor = Supervisor(
        suite, log=lines.append, max_backoff_seconds=4.0, stable_seconds=60.0, clock=clock
    )
    delays = []
    for _ in range(5):
        suite.processes["crasher"].process.wait(timeout=30)
        suite.processes["crasher"].started_at = clock.now
        lines.clear()
        supervisor.check()
        (scheduled,) = lines
        assert "exited (exit code 3)" in scheduled
        delay = float(scheduled.split("restarting in ")[1].split("s")[0])
        delays.append(delay)
        clock.now += delay - 0.01
        supervisor.check()
        assert supervisor.restart_counts.get("crasher", 0) == len(delays) - 1  # not yet
        clock.now += 0.01
        supervisor.check()
        assert supervisor.restart_counts["crasher"] == len(delays)
        assert lines[-1].startswith("crasher restarted (pid ")
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0]
    # Up for longer than stable_seconds before it crashed: the shortest delay again.
    suite.processes["crasher"].process.wait(timeout=30)
    suite.processes["crasher"].started_at = clock.now
    clock.now += 61
    lines.clear()
    supervisor.check()
    assert "restarting in 0.5s" in lines[0]
    suite.stop_all()


@pytest.fixture(scope="module")
async def supervised(
    pg_cluster: EmbeddedPostgres, template_database: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Suite, list[str]]]:
    database = f"ops_{uuid.uuid4().hex[:12]}"
    await pg_cluster.create_database_from_template(database, template_database)
    run_dir = Path(tmp_path_factory.mktemp("supervised"))
    suite = Suite(
        cluster=pg_cluster,
        database=database,
        ports={name: free_port() for name in SERVICES},
        run_dir=run_dir,
        internal_token=secrets.token_urlsafe(16),
        jwt_secret=secrets.token_urlsafe(32),
        environment="test",
        extra_env={"matcher": {"CONVENE_MATCHER_FEED_POLL_SECONDS": "0.2"}},
    )
    run_module(
        "scripts.demo.citizens",
        "--dsn", pg_cluster.dsn(database, role="convene_profiles"),
        "--count", "40", "--seed", "7", "--if-empty",
    )  # fmt: skip
    lines: list[str] = []
    stop = threading.Event()
    supervisor = Supervisor(suite, log=lines.append, initial_backoff_seconds=0.2)
    thread = threading.Thread(target=supervisor.run, args=(stop.is_set,), kwargs={"interval": 0.1})
    try:
        suite.start_all()
        suite.wait_all_ready(timeout=180)
        thread.start()
        yield suite, lines
    finally:
        stop.set()
        if thread.is_alive():
            thread.join(timeout=10)
        suite.stop_all()
        await pg_cluster.drop_database(database)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _alive(url: str) -> bool:
    try:
        return httpx.get(f"{url}/livez", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_for(condition: Any, *, timeout: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"{what} not within {timeout}s")


@pytest.mark.parametrize("victim", SERVICES)
def test_a_killed_service_is_restarted_while_the_others_keep_serving(
    supervised: tuple[Suite, list[str]], victim: str
) -> None:
    suite, lines = supervised
    for name in SERVICES:
        _wait_for(lambda name=name: _ready(suite.url(name)), timeout=120, what=f"{name} ready")
    old = suite.processes[victim].process
    os.kill(old.pid, signal.SIGKILL)
    old.wait(timeout=10)

    # The others keep serving while the victim is down or starting again.
    others = [name for name in SERVICES if name != victim]
    for name in others:
        assert _alive(suite.url(name)), f"{name} stopped serving when {victim} was killed"

    def restarted() -> bool:
        current = suite.processes[victim].process
        return current.pid != old.pid and _ready(suite.url(victim))

    took = _wait_for(restarted, timeout=RESTART_DEADLINE_SECONDS, what=f"{victim} restarted")
    for name in others:
        assert suite.processes[name].process.poll() is None, f"{name} exited"
        assert _ready(suite.url(name)), name
    assert any(
        line.startswith(f"{victim} exited (killed by SIGKILL); restarting in ") for line in lines
    ), lines
    assert any(line.startswith(f"{victim} restarted (pid ") for line in lines), lines
    print(f"{victim} served again {took:.1f}s after SIGKILL")  # noqa: T201


def test_the_suite_serves_through_restarted_services(supervised: tuple[Suite, list[str]]) -> None:
    """After every service was killed once, the whole path works: the gateway answers an
    authenticated call that reaches profiles (registration and sign-in)."""
    suite, _ = supervised
    gateway = suite.url("gateway")
    email = f"after-restart-{uuid.uuid4().hex[:8]}@example.org"
    with httpx.Client(base_url=gateway, timeout=30) as client:
        created = client.post(
            "/v1/citizens",
            json={"email": email, "password": "correct horse battery", "display_name": "Re Start"},
        )
        assert created.status_code == 201, created.text
        token = client.post(
            "/v1/auth/token", data={"username": email, "password": "correct horse battery"}
        )
        assert token.status_code == 200, token.text
        me = client.get(
            "/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
        )
        assert me.status_code == 200, me.text
    # What `curl :8002/metrics` shows during `make run`: feed lag and the routing stages.
    metrics = httpx.get(f"{suite.url('matcher')}/metrics", timeout=10)
    assert metrics.status_code == 200
    lines = metrics.text.splitlines()
    assert any(line.startswith("convene_feed_lag_seconds ") for line in lines)
    assert any(line.startswith("convene_feed_lag_sequences ") for line in lines)
    assert "# TYPE convene_routing_stage_seconds histogram" in lines
