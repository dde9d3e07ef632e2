"""Every SQL statement about the shared rate-limit buckets (migration 0090)."""

from __future__ import annotations

from dataclasses import dataclass

from convene_common.db import Connection

# One statement takes a token from every bucket a request counts against (GCRA: a bucket of
# `burst` tokens refilled one per `interval_seconds` allows a request while
# max(tat, now) + interval <= now + tolerance, tolerance = burst * interval). SET sees the old
# row, so `allowed` and `tat` are computed from the same state; row locks last one statement.
_TAKE = """
INSERT INTO rate_limit_bucket AS b
    (bucket, key, tat, interval_seconds, tolerance_seconds, allowed)
SELECT w.bucket, w.key, statement_timestamp() + make_interval(secs => w.interval_seconds),
       w.interval_seconds, w.tolerance_seconds, true
FROM unnest($1::text[], $2::text[], $3::float8[], $4::float8[])
    AS w(bucket, key, interval_seconds, tolerance_seconds)
ON CONFLICT ON CONSTRAINT rate_limit_bucket_pkey DO UPDATE SET
    allowed = greatest(b.tat, statement_timestamp())
        + make_interval(secs => EXCLUDED.interval_seconds)
        <= statement_timestamp() + make_interval(secs => EXCLUDED.tolerance_seconds),
    tat = CASE
        WHEN greatest(b.tat, statement_timestamp())
            + make_interval(secs => EXCLUDED.interval_seconds)
            <= statement_timestamp() + make_interval(secs => EXCLUDED.tolerance_seconds)
        THEN greatest(b.tat, statement_timestamp())
            + make_interval(secs => EXCLUDED.interval_seconds)
        ELSE b.tat
    END,
    interval_seconds = EXCLUDED.interval_seconds,
    tolerance_seconds = EXCLUDED.tolerance_seconds
RETURNING b.bucket, b.allowed,
    extract(epoch FROM b.tat - statement_timestamp())::float8
        + b.interval_seconds - b.tolerance_seconds AS wait_seconds
"""


@dataclass(frozen=True)
class BucketTake:
    """One token wanted from one bucket: `bucket` names the limit, `key` is a hash."""

    bucket: str
    key: str
    interval_seconds: float
    tolerance_seconds: float


@dataclass(frozen=True)
class TakeResult:
    bucket: str
    allowed: bool
    wait_seconds: float


async def take(connection: Connection, *, takes: list[BucketTake]) -> list[TakeResult]:
    rows = await connection.fetch(
        _TAKE,
        [t.bucket for t in takes],
        [t.key for t in takes],
        [t.interval_seconds for t in takes],
        [t.tolerance_seconds for t in takes],
    )
    return [
        TakeResult(bucket=r["bucket"], allowed=r["allowed"], wait_seconds=r["wait_seconds"])
        for r in rows
    ]


async def delete_full(connection: Connection) -> int:
    """Forgets buckets that have refilled (a missing row is a full bucket)."""
    status = await connection.execute(
        "DELETE FROM rate_limit_bucket WHERE tat < statement_timestamp()"
    )
    return int(status.rsplit(" ", 1)[-1])
