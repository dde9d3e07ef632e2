"""The shared migration runner: order, idempotence, concurrency, checksums."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from convene_common.migrations import MigrationError, migrate
from tests.conftest import FreshDatabase

# A schema of its own: the services' schemas already hold their real migrations.
SCRATCH_SCHEMA = "scratch_migrations"


async def test_applies_in_order_once_even_when_run_concurrently(
    database: FreshDatabase, tmp_path: Path
) -> None:
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE widget (id int PRIMARY KEY);")
    (tmp_path / "0002_second.sql").write_text("ALTER TABLE widget ADD COLUMN label text;")
    dsn = database.cluster.dsn(database.name)
    results = await asyncio.gather(
        *(migrate(dsn, schema=SCRATCH_SCHEMA, directory=tmp_path) for _ in range(3))
    )
    applied = sorted(name for result in results for name in result)
    assert applied == ["0001_first.sql", "0002_second.sql"]
    connection = await asyncpg.connect(dsn)
    try:
        columns = await connection.fetch(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = $1 AND table_name = 'widget' ORDER BY ordinal_position",
            SCRATCH_SCHEMA,
        )
    finally:
        await connection.close()
    assert [c["column_name"] for c in columns] == ["id", "label"]


async def test_failed_file_rolls_back_and_changed_file_is_refused(
    database: FreshDatabase, tmp_path: Path
) -> None:
    dsn = database.cluster.dsn(database.name)
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE gadget (id int);")
    (tmp_path / "0002_broken.sql").write_text("CREATE TABLE half (id int); SELECT nonsense();")
    with pytest.raises(asyncpg.PostgresError):
        await migrate(dsn, schema=SCRATCH_SCHEMA, directory=tmp_path)
    connection = await asyncpg.connect(dsn)
    try:
        half = await connection.fetchval("SELECT to_regclass('scratch_migrations.half')")
        gadget = await connection.fetchval("SELECT to_regclass('scratch_migrations.gadget')")
    finally:
        await connection.close()
    assert half is None
    assert gadget is not None
    (tmp_path / "0002_broken.sql").unlink()
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE gadget (id bigint);")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        await migrate(dsn, schema=SCRATCH_SCHEMA, directory=tmp_path)
