"""One migration runner for every service: numbered plain SQL files, applied in order.

Each service owns a schema; its migrations live in ``services/<name>/migrations/NNNN_name.sql``.
The runner takes an advisory lock (so concurrent starts apply each file once), applies each
pending file in its own transaction and records it in ``<schema>.schema_migrations``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

logger = logging.getLogger("convene.migrations")

_FILENAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


class MigrationError(RuntimeError):
    pass


def load_migrations(directory: Path) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILENAME.match(path.name)
        if not match:
            raise MigrationError(f"migration file {path.name} is not named NNNN_name.sql")
        migrations.append(Migration(int(match.group(1)), path.name, path.read_text()))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration numbers in {directory}")
    return migrations


def _lock_key(schema: str) -> int:
    return zlib.crc32(f"convene-migrations:{schema}".encode())


async def apply_migrations(
    connection: asyncpg.Connection[Any], *, schema: str, directory: Path
) -> list[str]:
    """Applies pending migrations; returns the names applied. Safe to run concurrently."""
    migrations = load_migrations(directory)
    await connection.execute("SELECT pg_advisory_lock($1)", _lock_key(schema))
    try:
        # The schema is normally made by provisioning, owned by the service's role, which
        # need not be allowed to create schemas in the database.
        has_schema = await connection.fetchval(
            "SELECT 1 FROM pg_namespace WHERE nspname = $1", schema
        )
        if not has_schema:
            await connection.execute(f'CREATE SCHEMA "{schema}"')
        await connection.execute(
            f"""CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )"""
        )
        rows = await connection.fetch(
            f'SELECT version, checksum, name FROM "{schema}".schema_migrations'
        )
        applied = {row["version"]: row for row in rows}
        done: list[str] = []
        for migration in migrations:
            previous = applied.get(migration.version)
            if previous is not None:
                if previous["checksum"] != migration.checksum:
                    raise MigrationError(
                        f"{migration.name} changed after it was applied; add a new migration"
                    )
                continue
            async with connection.transaction():
                await connection.execute(f'SET LOCAL search_path TO "{schema}"')
                await connection.execute(migration.sql)
                await connection.execute(
                    f'INSERT INTO "{schema}".schema_migrations (version, name, checksum) '
                    "VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            logger.info("migration applied", extra={"schema": schema, "migration": migration.name})
            done.append(migration.name)
        return done
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", _lock_key(schema))


async def migrate(dsn: str, *, schema: str, directory: Path) -> list[str]:
    connection = await asyncpg.connect(dsn)
    try:
        return await apply_migrations(connection, schema=schema, directory=directory)
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Apply a service's SQL migrations.")
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--schema", required=True)
    parser.add_argument("--directory", required=True, type=Path)
    args = parser.parse_args()
    applied = asyncio.run(migrate(args.dsn, schema=args.schema, directory=args.directory))
    print(f"{args.schema}: applied {len(applied)} migration(s)")  # noqa: T201


if __name__ == "__main__":
    main()
