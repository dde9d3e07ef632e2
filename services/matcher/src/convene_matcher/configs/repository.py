"""Every SQL statement on ``matching_config`` and ``matching_config_activation``."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

# Re-exported: services annotate with repository.Connection.
from convene_common.db import Connection as Connection

# Serialises activations (and the first configuration) across replicas.
ACTIVATION_LOCK_KEY = 0x636F6E6669677321  # "configs!"

_CONFIG_COLUMNS = "id, settings, note, created_at, created_by"


async def lock_activations(connection: Connection) -> None:
    await connection.execute("SELECT pg_advisory_xact_lock($1)", ACTIVATION_LOCK_KEY)


async def insert_config(
    connection: Connection, *, settings: dict[str, Any], note: str, created_by: str
) -> asyncpg.Record:
    row: asyncpg.Record | None = await connection.fetchrow(
        f"""INSERT INTO matching_config (settings, note, created_by) VALUES ($1::jsonb, $2, $3)
            RETURNING {_CONFIG_COLUMNS}""",
        settings,
        note,
        created_by,
    )
    assert row is not None
    return row


async def count_configs(connection: Connection) -> int:
    value = await connection.fetchval("SELECT count(*) FROM matching_config")
    return int(value)


async def get_config(connection: Connection, *, config_id: int) -> asyncpg.Record | None:
    return await connection.fetchrow(
        f"SELECT {_CONFIG_COLUMNS} FROM matching_config WHERE id = $1", config_id
    )


async def list_configs(
    connection: Connection, *, limit: int, before: int | None
) -> list[asyncpg.Record]:
    """Newest first (keyset on id)."""
    return list(
        await connection.fetch(
            f"""SELECT {_CONFIG_COLUMNS} FROM matching_config
                WHERE $2::integer IS NULL OR id < $2 ORDER BY id DESC LIMIT $1""",
            limit,
            before,
        )
    )


async def latest_activation(connection: Connection) -> asyncpg.Record | None:
    return await connection.fetchrow(
        """SELECT id, from_config_id, to_config_id, kind, activated_at, activated_by
           FROM matching_config_activation ORDER BY id DESC LIMIT 1"""
    )


async def active_config_id(connection: Connection) -> int | None:
    value = await connection.fetchval(
        "SELECT to_config_id FROM matching_config_activation ORDER BY id DESC LIMIT 1"
    )
    return int(value) if value is not None else None


async def insert_activation(
    connection: Connection,
    *,
    from_config_id: int | None,
    to_config_id: int,
    kind: str,
    activated_by: str,
) -> asyncpg.Record:
    row: asyncpg.Record | None = await connection.fetchrow(
        """INSERT INTO matching_config_activation
               (from_config_id, to_config_id, kind, activated_by)
           VALUES ($1, $2, $3, $4)
           RETURNING id, from_config_id, to_config_id, kind, activated_at, activated_by""",
        from_config_id,
        to_config_id,
        kind,
        activated_by,
    )
    assert row is not None
    return row


async def list_activations(
    connection: Connection, *, limit: int, before: int | None
) -> list[asyncpg.Record]:
    return list(
        await connection.fetch(
            """SELECT id, from_config_id, to_config_id, kind, activated_at, activated_by
               FROM matching_config_activation
               WHERE $2::bigint IS NULL OR id < $2 ORDER BY id DESC LIMIT $1""",
            limit,
            before,
        )
    )


async def call_public_body(connection: Connection, *, call_id: uuid.UUID) -> uuid.UUID | None:
    """The body owning a call (admins preview any call; routing reads calls per body)."""
    value = await connection.fetchval("SELECT public_body_id FROM call WHERE id = $1", call_id)
    return value if isinstance(value, uuid.UUID) else None
