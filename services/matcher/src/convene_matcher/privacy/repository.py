"""Every SQL statement of the matcher's export and erasure; functions receive a connection."""

from __future__ import annotations

from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Connection: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"


async def erase_citizens(connection: Connection, *, citizen_ids: list[str]) -> None:
    """Erasure: the citizens' match rows and exposure ledger entries go with them."""
    if not citizen_ids:
        return
    await connection.execute(
        "DELETE FROM call_match WHERE citizen_id = ANY($1::uuid[])", citizen_ids
    )
    await connection.execute("DELETE FROM exposure WHERE citizen_id = ANY($1::uuid[])", citizen_ids)
