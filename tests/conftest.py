"""Test session: one real PostgreSQL cluster, one migrated template, a fresh database per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from convene_common.embedded_pg import SERVICE_SCHEMAS, EmbeddedPostgres
from convene_common.migrations import migrate

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_DATABASE = "convene_template"

# The model is read from site-packages, never fetched.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


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
    name = f"t_{uuid.uuid4().hex[:16]}"
    await pg_cluster.create_database_from_template(name, template_database)
    try:
        yield FreshDatabase(cluster=pg_cluster, name=name)
    finally:
        await pg_cluster.drop_database(name)
