"""Test session: one real PostgreSQL cluster, one migrated template, a fresh database per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from convene_common.embedded_pg import SERVICE_SCHEMAS, EmbeddedPostgres
from convene_common.migrations import migrate
from tests.stall_watch import StallWatch

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_DATABASE = "convene_template"
# The matcher's ONNX export (embedding/backends.py), made once by the first test or process
# that needs it and reused by every later one (scripts/suite.py points its matchers here).
ONNX_DIR = REPO_ROOT / ".run" / "onnx"


def load_served_model(*, threads: int) -> Any:
    """The embedding model a matcher of default settings serves (its default backend), for
    tests that hand one loaded model to many apps (``create_app(embedding_model=...)``)."""
    from convene_matcher.config import MatcherSettings
    from convene_matcher.main import embedding_spec

    settings = MatcherSettings(onnx_dir=ONNX_DIR, torch_threads=threads)
    model, _ = embedding_spec(settings).load()
    return model


# The model is read from site-packages, never fetched.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


STALL_WATCH = StallWatch()


def pytest_configure(config: pytest.Config) -> None:
    STALL_WATCH.start()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    STALL_WATCH.current_test = item.nodeid
    try:
        return (yield)
    finally:
        STALL_WATCH.current_test = f"(between tests, after {item.nodeid})"
        forget_fastapi_callables()


def forget_fastapi_callables() -> None:
    """FastAPI (0.165) classifies endpoint and dependency callables in module-level LRU
    caches of 4,096 entries that hold the callables themselves. A service process makes one
    app and is unaffected; this process makes hundreds, and every closure an app defines
    (its /metrics endpoint, its dependencies) kept the whole app alive in those caches: 22
    apps after 12 tests, ~100,000 objects each. The heap grew to millions of objects and
    each full garbage collection paused the event loop for 1.5-5.5 s (the stall watch's
    records), long enough to fail the gateway's 2 s timing tests now and then."""
    from fastapi.dependencies import models

    for value in vars(models).values():
        cache_clear = getattr(value, "cache_clear", None)
        if callable(cache_clear):
            cache_clear()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    STALL_WATCH.stop()
    STALL_WATCH.write(REPO_ROOT / ".run" / f"stalls-{os.getpid()}.json")
    lines = STALL_WATCH.report_lines()
    if lines:
        terminalreporter.section("stalls of the test process (GC pauses, event-loop lag)")
        for line in lines:
            terminalreporter.write_line(line)


def migrations_dir(schema: str) -> Path:
    return REPO_ROOT / "services" / schema / "migrations"


@dataclass(frozen=True)
class FreshDatabase:
    """A fresh database made from the migrated template; dsn(schema) logs in as that service."""

    cluster: EmbeddedPostgres
    name: str

    def dsn(self, schema: str) -> str:
        return self.cluster.dsn(self.name, role=f"convene_{schema}")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[EmbeddedPostgres]:
    base = REPO_ROOT / ".run" / f"test-pg-{os.getpid()}"
    cluster = EmbeddedPostgres(base)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop(mode="immediate")
        import shutil

        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
async def template_database(pg_cluster: EmbeddedPostgres) -> str:
    await pg_cluster.provision(TEMPLATE_DATABASE)
    for schema in SERVICE_SCHEMAS:
        await migrate(
            pg_cluster.dsn(TEMPLATE_DATABASE, role=f"convene_{schema}"),
            schema=schema,
            directory=migrations_dir(schema),
        )
    return TEMPLATE_DATABASE


@pytest.fixture
async def database(
    pg_cluster: EmbeddedPostgres, template_database: str
) -> AsyncIterator[FreshDatabase]:
    STALL_WATCH.watch_loop()
    name = f"t_{uuid.uuid4().hex[:16]}"
    await pg_cluster.create_database_from_template(name, template_database)
    try:
        yield FreshDatabase(cluster=pg_cluster, name=name)
    finally:
        await pg_cluster.drop_database(name)
