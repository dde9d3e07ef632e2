"""Routing calls through the public gateway: the three services under uvicorn on 127.0.0.1.

    .venv/bin/python bench/gateway_routing.py --citizens 100000 --clients 4 --calls 200

An embedded PostgreSQL, demo citizens from the generator (scripts.demo.citizens) written
before the services start, the matcher catching up through the change feed, then a public
body (X-API-Key) posting a few calls and routing them (POST /v1/calls/{id}/match) from
``--clients`` concurrent clients. Prints p50/p99 latency and errors as a table and writes
bench/results/gateway_routing.json. Goals: p50 <= 30 ms, p99 <= 80 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from convene_common.embedded_pg import EmbeddedPostgres, free_port  # noqa: E402
from scripts.suite import Suite, prepare_database, run_module  # noqa: E402

DATABASE = "convene_gateway_bench"
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@bench.example", "bench-admin-password"
GOALS = {"p50_ms": 30.0, "p99_ms": 80.0}

# (title, description, skills, perspectives, place) in the demo's vocabulary.
CALLS: list[tuple[str, str, list[str], list[tuple[str, int]], dict[str, Any]]] = [
    ("Protected bike lanes on Oxford Road",
     "Segregated cycle lanes and junction changes; planners, engineers, cyclists, cab drivers.",
     ["Urban planning", "Traffic engineering", "Cycling infrastructure design"],
     [("cyclist", 2), ("cab driver", 1)],
     {"authority_code": "E08000003", "lat": 53.4808, "lon": -2.2426, "radius_km": 15}),
    ("Commissioning home care",
     "How should adult social care be commissioned so that carers are heard?",
     ["Social care", "Caring for a disabled relative"], [("carer", 2)],
     {"authority_code": "E08000035"}),
    ("School streets pilot",
     "Closing streets outside primary schools at drop-off and pick-up times.",
     ["Road safety", "Teaching children"], [("parent school age", 2)],
     {"authority_code": "E08000025"}),
    ("Air quality around the station",
     "Monitoring and cutting nitrogen dioxide near the bus station.",
     ["Air quality monitoring", "Public health", "Data analysis"], [],
     {"authority_code": "E06000023"}),
    ("Accessible trams",
     "Step-free access and announcements on the tram network.",
     ["Accessibility auditing"], [("wheelchair user", 1), ("public transport user", 1)],
     {"lat": 53.4808, "lon": -2.2426, "radius_km": 25}),
    ("Housing repairs backlog",
     "Tenants' experience of repairs and how to prioritise the backlog.",
     ["Housing policy", "Survey design and statistics"], [("tenant", 2)], {}),
]  # fmt: skip


def call_body(index: int) -> dict[str, Any]:
    title, description, skills, perspectives, place = CALLS[index % len(CALLS)]
    body: dict[str, Any] = {
        "title": title,
        "description": description,
        "skills": [{"label": label} for label in skills],
        "perspectives": [{"role": role, "min": low, "max": 4} for role, low in perspectives],
        "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "panel_size": 8,
    }
    if place:
        body["place"] = place
    return body


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def wait_caught_up(client: httpx.AsyncClient, admin: dict[str, str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        head = await client.get("/v1/admin/changes", headers=admin, params={"limit": 1})
        status = await client.get("/v1/admin/index/status", headers=admin)
        if status.status_code == 200 and head.status_code == 200:
            if status.json()["last_seq"] >= head.json()["head_seq"]:
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"matcher not caught up after {timeout}s: {status.text[:300]}")
        await asyncio.sleep(1)


async def route(
    url: str, api_key: str, admin_token: str, *, clients: int, calls: int, catch_up: float
) -> dict[str, Any]:
    admin = {"Authorization": f"Bearer {admin_token}"}
    body = {"X-API-Key": api_key}
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        started = time.monotonic()
        await wait_caught_up(client, admin, catch_up)
        caught_up_seconds = time.monotonic() - started
        status = (await client.get("/v1/admin/index/status", headers=admin)).json()
        call_ids = []
        for index in range(len(CALLS)):
            created = await client.post("/v1/calls", headers=body, json=call_body(index))
            created.raise_for_status()
            call_ids.append(created.json()["id"])
        # Warm-up: one match per call (first embeddings of the call texts, connections).
        for call_id in call_ids:
            (await client.post(f"/v1/calls/{call_id}/match", headers=body)).raise_for_status()

        latencies: list[float] = []
        errors: dict[str, int] = {}
        queue: asyncio.Queue[str] = asyncio.Queue()
        for number in range(calls):
            queue.put_nowait(call_ids[number % len(call_ids)])

        async def worker() -> None:
            async with httpx.AsyncClient(base_url=url, timeout=60) as own:
                while not queue.empty():
                    call_id = queue.get_nowait()
                    began = time.perf_counter()
                    try:
                        response = await own.post(f"/v1/calls/{call_id}/match", headers=body)
                    except httpx.HTTPError as exc:
                        errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                        continue
                    elapsed = (time.perf_counter() - began) * 1000
                    if response.status_code == 200:
                        latencies.append(elapsed)
                    else:
                        key = str(response.status_code)
                        errors[key] = errors.get(key, 0) + 1

        wall = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.monotonic() - wall
    return {
        "latencies": latencies,
        "errors": errors,
        "wall_seconds": wall,
        "caught_up_seconds": caught_up_seconds,
        "index": {k: status[k] for k in ("kind", "items", "citizens", "last_seq")},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--citizens", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--catch-up-timeout", type=float, default=3600)
    parser.add_argument(
        "--json-out", type=Path, default=REPO / "bench" / "results" / "gateway_routing.json"
    )
    args = parser.parse_args()

    base = REPO / ".run" / f"bench-gateway-{os.getpid()}"
    cluster = EmbeddedPostgres(base / "pg")
    cluster.start()
    suite: Suite | None = None
    try:
        asyncio.run(prepare_database(cluster, DATABASE))
        loaded = time.monotonic()
        run_module(
            "scripts.demo.citizens",
            "--dsn", cluster.dsn(DATABASE, role="convene_profiles"),
            "--count", str(args.citizens), "--seed", str(args.seed),
        )  # fmt: skip
        demo_seconds = time.monotonic() - loaded
        bootstrap = json.loads(
            run_module(
                "convene_gateway.bootstrap",
                "--dsn", cluster.dsn(DATABASE, role="convene_gateway"),
                "--admin-email", ADMIN_EMAIL, "--admin-password", ADMIN_PASSWORD,
                "--organisation", "Bench City Council", "--print-api-key",
            )
        )  # fmt: skip
        quiet = {"LOG_LEVEL": "WARNING"}
        suite = Suite(
            cluster=cluster,
            database=DATABASE,
            ports={name: free_port() for name in ("profiles", "matcher", "gateway")},
            run_dir=base,
            internal_token=secrets.token_urlsafe(16),
            jwt_secret=secrets.token_urlsafe(32),
            environment="test",
            extra_env={
                name: {f"CONVENE_{name.upper()}_{k}": v for k, v in quiet.items()}
                for name in ("profiles", "matcher", "gateway")
            },
        )
        suite.start_all()
        suite.wait_all_ready(timeout=600)
        token = httpx.post(
            f"{suite.url('gateway')}/v1/auth/token",
            data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
            timeout=30,
        )
        token.raise_for_status()
        measured = asyncio.run(
            route(
                suite.url("gateway"),
                bootstrap["api_key"],
                token.json()["access_token"],
                clients=args.clients,
                calls=args.calls,
                catch_up=args.catch_up_timeout,
            )
        )
    finally:
        if suite is not None:
            suite.stop_all()
        cluster.stop(mode="immediate")
        shutil.rmtree(base, ignore_errors=True)

    latencies = measured["latencies"]
    result = {
        "benchmark": "gateway_routing",
        "command": " ".join(["bench/gateway_routing.py", *sys.argv[1:]]),
        "citizens": args.citizens,
        "clients": args.clients,
        "calls": args.calls,
        "ok": len(latencies),
        "errors": sum(measured["errors"].values()),
        "error_kinds": measured["errors"],
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
        "throughput_per_s": round(len(latencies) / measured["wall_seconds"], 1),
        "demo_load_seconds": round(demo_seconds, 1),
        "matcher_catch_up_seconds": round(measured["caught_up_seconds"], 1),
        "index": measured["index"],
        "goals": GOALS,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    rows = [
        ("citizens", f"{args.citizens:,}"),
        ("clients x calls", f"{args.clients} x {args.calls}"),
        ("p50", f"{result['p50_ms']} ms (goal <= {GOALS['p50_ms']:.0f})"),
        ("p99", f"{result['p99_ms']} ms (goal <= {GOALS['p99_ms']:.0f})"),
        ("mean / max", f"{result['mean_ms']} / {result['max_ms']} ms"),
        ("errors", f"{result['errors']} {measured['errors'] or ''}"),
        ("throughput", f"{result['throughput_per_s']} matches/s"),
        ("index", f"{result['index']['kind']}, {result['index']['items']:,} items"),
        ("demo load / catch-up", f"{demo_seconds:.0f} s / {measured['caught_up_seconds']:.0f} s"),
    ]
    width = max(len(name) for name, _ in rows)
    print("gateway routing (POST /v1/calls/{id}/match through the gateway)")  # noqa: T201
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")  # noqa: T201
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
