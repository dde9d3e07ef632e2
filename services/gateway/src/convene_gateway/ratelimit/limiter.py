"""Where the buckets live: in PostgreSQL, shared by every gateway replica (the default), or
in this process (``rate_limits.shared = false``: each replica then allows the full limit, so
N replicas allow N times it).

Shared, a request costs one statement that takes a token from each of its buckets at once
(ratelimit/repository.py), on a small pool of the limiter's own (``rate_limits.pool_max``).
If the database cannot answer within ``acquire_timeout_seconds`` the request is counted in
this process instead (and logged): a database outage must not turn every request into a 500
here, and the per-process bound still holds.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from convene_common.db import Pool, create_pool
from convene_gateway.ratelimit import repository
from convene_gateway.ratelimit.buckets import BucketStore
from convene_gateway.ratelimit.config import Limit, RateLimits

logger = logging.getLogger("convene.gateway.ratelimit")

DATABASE_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


@dataclass(frozen=True)
class Take:
    """One token from the bucket named `bucket` (a limit's name) for `key`."""

    bucket: str
    key: str
    limit: Limit


async def open_pool(dsn: str, *, schema: str, max_size: int) -> Pool:
    """The limiter's own small pool. Its one statement is autocommit and leaves no session
    state, so connections go back without asyncpg's reset query: measured under load, the
    reset round trip made a take cost 4x the statement (bench/rate_limit_cost.py)."""
    return await create_pool(
        dsn, schema=schema, min_size=1, max_size=max_size, reset_on_release=False
    )


class RateLimiter:
    def __init__(self, limits: RateLimits) -> None:
        self.shared = limits.shared
        self._max_keys = limits.max_tracked_keys
        self._acquire_timeout = limits.acquire_timeout_seconds
        self._memory: dict[str, BucketStore] = {}
        self._pool: Pool | None = None

    def bind(self, pool: Pool) -> None:
        """Called in the lifespan once the pool exists (before it, buckets are per process)."""
        if self.shared:
            self._pool = pool

    def unbind(self) -> None:
        self._pool = None

    async def take(self, takes: Sequence[Take]) -> tuple[int, str]:
        """(0, "") when every bucket had a token, else (seconds to wait, the first empty
        bucket's name). Shared, every bucket of the request gives a token in the one
        statement, even when another is empty."""
        if not takes:
            return 0, ""
        pool = self._pool
        if pool is not None:
            try:
                return await self._take_shared(pool, takes)
            except DATABASE_ERRORS as exc:
                logger.warning(
                    "shared rate limits unavailable; counted in this process",
                    extra={"error": type(exc).__name__},
                )
        return self._take_in_process(takes)

    async def _take_shared(self, pool: Pool, takes: Sequence[Take]) -> tuple[int, str]:
        wanted = [
            repository.BucketTake(
                bucket=t.bucket,
                key=hashlib.sha256(t.key.encode()).hexdigest()[:32],
                interval_seconds=60.0 / t.limit.per_minute,
                tolerance_seconds=t.limit.burst * 60.0 / t.limit.per_minute,
            )
            for t in takes
        ]
        async with pool.acquire(timeout=self._acquire_timeout) as connection:
            results = await repository.take(connection, takes=wanted)
        refused = {r.bucket: r.wait_seconds for r in results if not r.allowed}
        for t in takes:
            if t.bucket in refused:
                return max(1, math.ceil(refused[t.bucket])), t.bucket
        return 0, ""

    def _take_in_process(self, takes: Sequence[Take]) -> tuple[int, str]:
        for t in takes:
            store = self._memory.get(t.bucket)
            if store is None:
                store = self._memory[t.bucket] = BucketStore(t.limit, max_keys=self._max_keys)
            if wait := store.take(t.key):
                return wait, t.bucket
        return 0, ""

    async def purge_full_buckets(self, *, every_seconds: float) -> None:
        """Runs for the app's life: deletes refilled buckets (a missing row is a full one)."""
        while True:
            await asyncio.sleep(every_seconds)
            pool = self._pool
            if pool is None:
                continue
            try:
                async with pool.acquire(timeout=self._acquire_timeout) as connection:
                    await repository.delete_full(connection)
            except DATABASE_ERRORS as exc:
                logger.warning(
                    "could not purge rate-limit buckets", extra={"error": type(exc).__name__}
                )
