"""asyncpg pool creation, a readiness probe, and the connection and pool types every
service's repositories take."""

from __future__ import annotations

import json
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# What `pool.acquire()` yields (a proxy) or `asyncpg.connect` returns: repositories take either.
Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"
Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"


async def register_json_codecs(connection: asyncpg.Connection[Any]) -> None:
    """json/jsonb in and out as Python objects. Pass dicts and lists, never json.dumps()
    strings: a string would be stored as a JSON string, not as the object it encodes."""
    for type_name in ("json", "jsonb"):
        await connection.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def _keep_session(connection: asyncpg.Connection[Any]) -> None:
    """A release without asyncpg's reset query (see create_pool)."""


async def create_pool(
    dsn: str,
    *,
    schema: str,
    min_size: int = 1,
    max_size: int = 10,
    reset_on_release: bool = True,
) -> asyncpg.Pool[Any]:
    """``reset_on_release=False`` skips the reset query asyncpg runs on every release (one
    more round trip: unlock advisory locks, close cursors, UNLISTEN, RESET ALL); asyncpg
    still rolls back a transaction left open. Only for a pool whose users leave no session
    state: no session advisory locks, LISTEN, SET or server-side cursors."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=register_json_codecs,
        server_settings={"search_path": schema, "application_name": f"convene-{schema}"},
        command_timeout=30,
        reset=None if reset_on_release else _keep_session,
    )
    assert pool is not None
    return pool


async def database_ready(pool: asyncpg.Pool[Any] | None) -> str:
    if pool is None:
        return "no pool"
    try:
        async with pool.acquire(timeout=2) as connection:
            await connection.fetchval("SELECT 1", timeout=2)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"unavailable: {type(exc).__name__}"
    return "ok"
