"""Runs the matcher under uvicorn on 127.0.0.1 against an embedded PostgreSQL (bench helper)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from convene_common.embedded_pg import EmbeddedPostgres, free_port
from convene_common.migrations import migrate

REPO = Path(__file__).resolve().parents[1]
DATABASE = "convene_bench"


@contextmanager
def embedded_database() -> Iterator[tuple[EmbeddedPostgres, str]]:
    cluster = EmbeddedPostgres(REPO / ".run" / f"bench-pg-{os.getpid()}")
    cluster.start()
    try:
        asyncio.run(cluster.provision(DATABASE, ("matcher",)))
        dsn = cluster.dsn(DATABASE, role="convene_matcher")
        asyncio.run(
            migrate(dsn, schema="matcher", directory=REPO / "services" / "matcher" / "migrations")
        )
        yield cluster, dsn
    finally:
        cluster.stop(mode="immediate")
        import shutil

        shutil.rmtree(cluster.base_dir, ignore_errors=True)


def wait_ready(url: str, process: subprocess.Popen[bytes], *, timeout: float) -> None:
    """Polls /readyz until 200; fails if the process exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the matcher did not become ready")
        time.sleep(0.2)


@contextmanager
def matcher_server(dsn: str, **settings: str) -> Iterator[str]:
    """Yields the base URL of a running matcher (feed off unless settings say otherwise)."""
    port = free_port()
    with tempfile.TemporaryDirectory() as index_dir:
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "CONVENE_MATCHER_DATABASE_URL": dsn,
            "CONVENE_MATCHER_INDEX_DIR": index_dir,
            "CONVENE_MATCHER_FEED_ENABLED": "false",
            "CONVENE_MATCHER_LOG_LEVEL": "WARNING",
        }
        env.update({f"CONVENE_MATCHER_{k.upper()}": v for k, v in settings.items()})
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "convene_matcher.main:app_from_env", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
            env=env,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, process, timeout=120)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)
