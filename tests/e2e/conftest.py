"""End-to-end: the three services as real processes on loopback over one fresh database."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from convene_common.embedded_pg import EmbeddedPostgres, free_port
from scripts.suite import Suite


@pytest.fixture(scope="module")
async def suite(
    pg_cluster: EmbeddedPostgres, template_database: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Suite]:
    database = f"e2e_{uuid.uuid4().hex[:12]}"
    await pg_cluster.create_database_from_template(database, template_database)
    run_dir = Path(tmp_path_factory.mktemp("suite"))
    running = Suite(
        cluster=pg_cluster,
        database=database,
        ports={name: free_port() for name in ("profiles", "matcher", "gateway")},
        run_dir=run_dir,
        internal_token=secrets.token_urlsafe(16),
        jwt_secret=secrets.token_urlsafe(32),
        environment="test",
        extra_env={"matcher": {"CONVENE_MATCHER_FEED_POLL_SECONDS": "0.2"}},
    )
    try:
        running.start_all()
        running.wait_all_ready(timeout=180)
        yield running
    finally:
        running.stop_all()
        await pg_cluster.drop_database(database)
