"""The per-citizen unit of work every write to a citizen's profile goes through.

One transaction that locks the citizen row (so writes to one citizen, and the change-feed
snapshots they produce, are serialised), lets the caller write, and then records the change
on the change feed. If the write raises, nothing is recorded and the transaction rolls back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg

from convene_common.db import Connection, Pool
from convene_profiles.changes import service as changes_service
from convene_profiles.citizens import repository as citizens_repository
from convene_profiles.config import ProfilesSettings
from convene_profiles.errors import CitizenNotFoundError


async def lock_citizen(connection: Connection, *, citizen_id: UUID) -> asyncpg.Record:
    """Locks the citizen row for this transaction; 404 when there is no such citizen."""
    row = await citizens_repository.get_citizen(connection, citizen_id=citizen_id, for_update=True)
    if row is None:
        raise CitizenNotFoundError(f"No citizen with id {citizen_id}.")
    return row


@asynccontextmanager
async def citizen_change(
    pool: Pool, *, citizen_id: UUID, settings: ProfilesSettings
) -> AsyncIterator[Connection]:
    """``async with citizen_change(pool, citizen_id=..., settings=...) as connection:`` then
    write with ``connection``; on a clean exit the citizen's new snapshot is appended to the
    change feed in the same transaction."""
    async with pool.acquire() as connection, connection.transaction():
        await lock_citizen(connection, citizen_id=citizen_id)
        yield connection
        await changes_service.record_upserts(
            connection, citizen_ids=[citizen_id], policy=settings.rating_policy()
        )
