"""What the shared rate limit costs per request: the one statement a gateway runs for every
/v1 request (ratelimit/repository.py), against an embedded PostgreSQL on loopback.

For N sequential requests of two buckets each (client address + principal, the usual case),
it reports the wall time per take (p50, p99, mean), the gateway process's CPU per take, and the
PostgreSQL backend's CPU per take (read from /proc for the pool's one connection), beside the
in-process buckets it replaces. Results: bench/results/rate_limit_cost.json.

    .venv/bin/python bench/rate_limit_cost.py [--requests 5000] [--keys 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from convene_common.db import Connection
from convene_common.embedded_pg import EmbeddedPostgres
from convene_common.migrations import migrate
from convene_gateway.ratelimit import repository
from convene_gateway.ratelimit.config import Limit, RateLimits
from convene_gateway.ratelimit.limiter import RateLimiter, Take, open_pool

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "rate_limit_cost.json"
CLIENT = Limit(burst=1_000_000, per_minute=1_000_000)
PRINCIPAL = Limit(burst=1_000_000, per_minute=1_000_000)


def backend_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(walls: list[float], *, cpu_seconds: float) -> dict[str, float]:
    return {
        "p50_us": round(percentile(walls, 0.5), 1),
        "p99_us": round(percentile(walls, 0.99), 1),
        "mean_us": round(statistics.fmean(walls), 1),
        "gateway_cpu_us_per_take": round(cpu_seconds / len(walls) * 1e6, 1),
    }


async def measure(limiter: RateLimiter, *, requests: int, keys: int) -> dict[str, float]:
    walls = []
    cpu_before = time.process_time()
    for index in range(requests):
        takes = [
            Take("client", f"10.0.{index % keys // 256}.{index % 256}", CLIENT),
            Take("principal", f"account:{index % keys}", PRINCIPAL),
        ]
        started = time.perf_counter()
        wait, _ = await limiter.take(takes)
        walls.append((time.perf_counter() - started) * 1e6)
        assert wait == 0
    return summary(walls, cpu_seconds=time.process_time() - cpu_before)


async def measure_statement(
    connection: Connection, *, requests: int, keys: int
) -> dict[str, float]:
    walls = []
    cpu_before = time.process_time()
    for index in range(requests):
        takes = [
            repository.BucketTake(
                bucket=bucket, key=f"{bucket}:{index % keys}", interval_seconds=6e-5,
                tolerance_seconds=60.0,
            )
            for bucket in ("client", "principal")
        ]  # fmt: skip
        started = time.perf_counter()
        results = await repository.take(connection, takes=takes)
        walls.append((time.perf_counter() - started) * 1e6)
        assert all(r.allowed for r in results)
    return summary(walls, cpu_seconds=time.process_time() - cpu_before)


async def run(requests: int, keys: int) -> dict[str, Any]:
    cluster = EmbeddedPostgres(REPO / ".run" / f"bench-ratelimit-pg-{os.getpid()}")
    cluster.start()
    try:
        await cluster.provision("convene_bench", ("gateway",))
        dsn = cluster.dsn("convene_bench", role="convene_gateway")
        await migrate(dsn, schema="gateway", directory=REPO / "services/gateway/migrations")
        # As the gateway makes it (no reset query on release), with one connection so that
        # its backend's CPU can be read.
        pool = await open_pool(dsn, schema="gateway", max_size=1)
        async with pool.acquire() as connection:
            backend = await connection.fetchval("SELECT pg_backend_pid()")
        shared = RateLimiter(RateLimits(shared=True))
        shared.bind(pool)
        await measure(shared, requests=min(500, requests), keys=keys)  # warm up
        db_before = backend_cpu_seconds(backend)
        shared_figures = await measure(shared, requests=requests, keys=keys)
        db_cpu = backend_cpu_seconds(backend) - db_before
        shared_figures["postgres_cpu_us_per_take"] = round(db_cpu / requests * 1e6, 1)
        # The statement alone on a held connection: the rest of a shared take is the pool's
        # acquire and release.
        async with pool.acquire() as connection:
            db_before = backend_cpu_seconds(backend)
            statement_only = await measure_statement(connection, requests=requests, keys=keys)
            statement_only["postgres_cpu_us_per_take"] = round(
                (backend_cpu_seconds(backend) - db_before) / requests * 1e6, 1
            )
        in_process = await measure(
            RateLimiter(RateLimits(shared=False)), requests=requests, keys=keys
        )
        await pool.close()
    finally:
        cluster.stop(mode="immediate")
        shutil.rmtree(cluster.base_dir, ignore_errors=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    return {
        "requests": requests,
        "distinct_keys": keys,
        "buckets_per_request": 2,
        "shared": shared_figures,
        "shared_statement_on_a_held_connection": statement_only,
        "in_process": in_process,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--keys", type=int, default=1000)
    args = parser.parse_args()
    result = asyncio.run(run(args.requests, args.keys))
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
