"""Server time of the heaviest web pages: the officer's panel review and the admin exposure.

    .venv/bin/python bench/web_pages.py --citizens 2000 --requests 200

The whole suite as processes on 127.0.0.1 (embedded PostgreSQL, profiles, matcher, gateway,
web): demo citizens from the generator (convene_profiles.demo), the matcher caught up
through the change feed, a council with an API key posting and inviting a batch of calls
(so the exposure ledger is not empty), then a signed-in officer (web sign-in form, cookie,
CSRF) posting the bike-lane call through the pages and an admin signed in the same way.
Each page is fetched ``--requests`` times, one request at a time; the figure is the time
from sending the request to the last byte on loopback (server time plus a loopback round
trip, which is well under a millisecond). Prints p50/p95 as a table and writes
bench/results/web_pages.json. Goal: p95 <= 150 ms at 100,000 citizens.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import argon2
import asyncpg
import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.gateway_routing import CALLS, call_body, percentile, wait_caught_up  # noqa: E402
from convene_common.embedded_pg import EmbeddedPostgres, free_port  # noqa: E402
from scripts.suite import Suite, prepare_database, run_module  # noqa: E402

DATABASE = "convene_web_bench"
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@bench.example", "bench-admin-password"
OFFICER_EMAIL, OFFICER_PASSWORD = "officer@bench.example", "bench-officer-password"
GOALS = {"p95_ms": 150.0}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def add_officer(dsn: str, organisation_id: str, password_hash: str) -> None:
    """A staff member of the council (the accounts issue's tables)."""
    connection = await asyncpg.connect(dsn)
    try:
        account_id = uuid.uuid4()
        await connection.execute(
            """INSERT INTO gateway.account (id, kind, email, password_hash, provisioned_at,
                                    email_verified_at, display_name)
               VALUES ($1, 'staff', $2, $3, now(), now(), 'Bench Officer')""",
            account_id,
            OFFICER_EMAIL,
            password_hash,
        )
        await connection.execute(
            "INSERT INTO gateway.organisation_member (account_id, organisation_id, role) "
            "VALUES ($1, $2, 'officer')",
            account_id,
            uuid.UUID(organisation_id),
        )
    finally:
        await connection.close()


async def submit(client: httpx.AsyncClient, path: str, data: dict[str, str]) -> httpx.Response:
    page = await client.get(path)
    page.raise_for_status()
    match = CSRF.search(page.text)
    assert match is not None, f"no CSRF field on {path}"
    response = await client.post(path, data={"csrf_token": match.group(1), **data})
    assert response.status_code == 303, (path, response.status_code, response.text[:500])
    return response


async def sign_in(web_url: str, email: str, password: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=web_url, timeout=60)
    await submit(client, "/sign-in", {"email": email, "password": password})
    return client


async def post_bike_lane_call(officer: httpx.AsyncClient) -> str:
    year = str(datetime.now(UTC).year + 1)
    sections = {
        "what-you-need": {
            "title": "Protected bike lanes on Oxford Road",
            "description": "Segregated cycle lanes and junction changes on Oxford Road: "
            "planners, engineers, cyclists and cab drivers.",
            "skills": "Urban planning\nTraffic engineering\nCycling infrastructure design",
        },
        "perspectives": {"role-1": "cyclist", "min-1": "2", "role-2": "cab driver", "min-2": "1"},
        "place": {"authority_code": "E08000003", "lat": "53.4808", "lon": "-2.2426",
                  "radius_km": "15"},
        "time": {"hours": "3", "deadline-day": "20", "deadline-month": "3",
                 "deadline-year": year, "panel_size": "12"},
    }  # fmt: skip
    for slug, fields in sections.items():
        await submit(officer, f"/calls/new/{slug}", fields)
    posted = await submit(officer, "/calls/new/check", {})
    return posted.headers["location"].split("/")[2]


async def timed(client: httpx.AsyncClient, path: str, requests: int) -> list[float]:
    for _ in range(3):  # warm-up: connections, first template renders
        (await client.get(path)).raise_for_status()
    latencies = []
    for _ in range(requests):
        began = time.perf_counter()
        response = await client.get(path)
        elapsed = (time.perf_counter() - began) * 1000
        assert response.status_code == 200, (path, response.status_code)
        latencies.append(elapsed)
    return latencies


async def measure(
    suite: Suite,
    web_url: str,
    api_key: str,
    *,
    organisation_id: str,
    requests: int,
    invite_calls: int,
    catch_up: float,
) -> dict[str, Any]:
    gateway = suite.url("gateway")
    body = {"X-API-Key": api_key}
    async with httpx.AsyncClient(base_url=gateway, timeout=120) as client:
        token = await client.post(
            "/v1/auth/token", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        token.raise_for_status()
        admin_headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        started = time.monotonic()
        await wait_caught_up(client, admin_headers, catch_up)
        caught_up_seconds = time.monotonic() - started
        status = (await client.get("/v1/admin/index/status", headers=admin_headers)).json()
        # Invitations on record, so the exposure page has a ledger to summarise.
        invited = 0
        for number in range(invite_calls):
            payload = call_body(number % len(CALLS))
            payload["deadline"] = (datetime.now(UTC) + timedelta(days=30)).isoformat()
            created = await client.post("/v1/calls", headers=body, json=payload)
            created.raise_for_status()
            call_id = created.json()["id"]
            (await client.post(f"/v1/calls/{call_id}/match", headers=body)).raise_for_status()
            batch = await client.post(f"/v1/calls/{call_id}/invitations", headers=body)
            if batch.status_code == 201:
                invited += len(batch.json()["items"])

    officer = await sign_in(web_url, OFFICER_EMAIL, OFFICER_PASSWORD)
    admin = await sign_in(web_url, ADMIN_EMAIL, ADMIN_PASSWORD)
    try:
        call_id = await post_bike_lane_call(officer)
        panel = await timed(officer, f"/calls/{call_id}/panel", requests)
        exposure = await timed(admin, "/admin/exposure", requests)
        calls = await timed(officer, "/calls", requests)
    finally:
        await officer.aclose()
        await admin.aclose()
    return {
        "pages": {"panel_review": panel, "admin_exposure": exposure, "calls_list": calls},
        "caught_up_seconds": caught_up_seconds,
        "invitations": invited,
        "index": {k: status[k] for k in ("kind", "items", "citizens", "last_seq")},
        "organisation_id": organisation_id,
    }


def summary(latencies: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "max_ms": round(max(latencies), 1),
        "requests": len(latencies),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--citizens", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--invite-calls", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--catch-up-timeout", type=float, default=3600)
    parser.add_argument(
        "--json-out", type=Path, default=REPO / "bench" / "results" / "web_pages.json"
    )
    args = parser.parse_args()

    base = REPO / ".run" / f"bench-web-{os.getpid()}"
    cluster = EmbeddedPostgres(base / "pg")
    cluster.start()
    suite: Suite | None = None
    try:
        asyncio.run(prepare_database(cluster, DATABASE))
        loaded = time.monotonic()
        run_module(
            "convene_profiles.demo",
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
        # argon2's defaults: the hash records its parameters; a login rehashes to the service's.
        password_hash = argon2.PasswordHasher().hash(OFFICER_PASSWORD)
        asyncio.run(
            add_officer(
                cluster.dsn(DATABASE, role="convene_gateway"),
                bootstrap["organisation_id"],
                password_hash,
            )
        )
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
                for name in ("profiles", "matcher", "gateway", "web")
            },
        )
        # Every page request is two or three gateway calls from one address (the web
        # process) as one account: the per-client and per-principal buckets (burst 600 and
        # 300) would answer 429 within one run. This measures server time, not the limiter.
        suite.extra_env["gateway"]["CONVENE_GATEWAY_RATE_LIMITS"] = '{"enabled": false}'

        suite.start_all()
        web_port = free_port()
        suite.start_web(port=web_port)
        suite.wait_all_ready(timeout=600)
        suite.wait_ready("web", timeout=120)
        measured = asyncio.run(
            measure(
                suite,
                f"http://127.0.0.1:{web_port}",
                bootstrap["api_key"],
                organisation_id=bootstrap["organisation_id"],
                requests=args.requests,
                invite_calls=args.invite_calls,
                catch_up=args.catch_up_timeout,
            )
        )
    finally:
        if suite is not None:
            suite.stop_all()
        cluster.stop(mode="immediate")
        shutil.rmtree(base, ignore_errors=True)

    pages = {name: summary(values) for name, values in measured["pages"].items()}
    result = {
        "benchmark": "web_pages",
        "command": " ".join(["bench/web_pages.py", *sys.argv[1:]]),
        "citizens": args.citizens,
        "pages": pages,
        "invitations_on_record": measured["invitations"],
        "demo_load_seconds": round(demo_seconds, 1),
        "matcher_catch_up_seconds": round(measured["caught_up_seconds"], 1),
        "index": measured["index"],
        "goals": GOALS,
        "goal_applies_at_citizens": 100_000,
        # Load averages while measuring: the machine may be shared with other work.
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"web pages at {args.citizens:,} citizens ({args.requests} requests each)")  # noqa: T201
    for name, figures in pages.items():
        print(  # noqa: T201
            f"  {name:<16} p50 {figures['p50_ms']:>7} ms   p95 {figures['p95_ms']:>7} ms   "
            f"max {figures['max_ms']:>7} ms"
        )
    print(f"  goal: p95 <= {GOALS['p95_ms']:.0f} ms at 100,000 citizens")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
