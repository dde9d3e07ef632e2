"""Writing to the outbox (inside the caller's transaction) and reading the feed."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from uuid import UUID

from convene_common.db import Connection, Pool
from convene_profiles.changes import repository
from convene_profiles.changes.schemas import ChangeList, ChangeRead
from convene_profiles.profile_state import load_states, match_snapshot
from convene_profiles.ratings.scoring import RatingPolicy


async def record_upserts(
    connection: Connection, *, citizen_ids: list[UUID], policy: RatingPolicy
) -> list[int]:
    """Appends one upsert change per citizen with its state as of now, in this transaction.

    Call it last in the transaction: the seq counter's row lock is held until commit.
    """
    if not connection.is_in_transaction():
        raise RuntimeError("outbox writes must happen inside the data change's transaction")
    states = await load_states(connection, citizen_ids=citizen_ids)
    snapshots = [
        (citizen_id, match_snapshot(state, policy=policy)) for citizen_id, state in states.items()
    ]
    if not snapshots:
        return []
    last = await repository.reserve_seqs(connection, count=len(snapshots))
    first = last - len(snapshots) + 1
    rows: list[tuple[int, UUID, str, dict[str, Any] | None]] = [
        (first + index, citizen_id, "upsert", snapshot)
        for index, (citizen_id, snapshot) in enumerate(snapshots)
    ]
    await repository.insert_changes(connection, rows=rows)
    return [row[0] for row in rows]


async def record_erase(connection: Connection, *, citizen_id: UUID) -> int:
    """Blanks the citizen's earlier snapshots and appends an erase change."""
    if not connection.is_in_transaction():
        raise RuntimeError("outbox writes must happen inside the data change's transaction")
    await repository.blank_snapshots(connection, citizen_id=citizen_id)
    seq = await repository.reserve_seqs(connection, count=1)
    await repository.insert_changes(connection, rows=[(seq, citizen_id, "erase", None)])
    return seq


def change_read(row: Any) -> ChangeRead:
    return ChangeRead.model_validate(
        {
            "seq": row["seq"],
            "citizen_id": row["citizen_id"],
            "kind": row["kind"],
            "occurred_at": row["occurred_at"],
            "snapshot": row["snapshot"],
        }
    )


async def read_changes(
    pool: Pool, *, after: int, limit: int, wait_seconds: float, poll_interval: float
) -> ChangeList:
    """Changes with seq > after; waits up to wait_seconds for the first one (polling, so no
    connection is held while waiting)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        async with pool.acquire() as connection:
            rows = await repository.list_changes(connection, after=after, limit=limit)
            head = await repository.head_seq(connection)
        if rows or time.monotonic() >= deadline:
            break
        await asyncio.sleep(min(poll_interval, max(deadline - time.monotonic(), 0)))
    items = [change_read(row) for row in rows]
    return ChangeList(items=items, last_seq=items[-1].seq if items else after, head_seq=head)
