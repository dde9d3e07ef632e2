"""The gateway's downstream HTTP client under a backlog: CPU per request against queue depth.

    .venv/bin/python bench/downstream_pool.py                 # bursts of 1..1024 requests
    .venv/bin/python bench/downstream_pool.py --bursts 1 256  # fewer

A downstream stand-in (uvicorn on 127.0.0.1 in its own process, every answer after
--server-ms of asyncio.sleep, like a service waiting on its database) is sent bursts of N
concurrent GETs by an httpx.AsyncClient as the gateway builds them, first over httpx's own
transport (httpcore's connection pool, max_connections 100 as the gateway had it), then over
convene_common.service_transport.BoundedTransport (32 and 100 in flight). The figure is the
client process's CPU time per request (time.process_time: CPU, not wall, so a busy machine
slows it but does not inflate it much): httpcore's pool scans every connection for each
queued request on every request and response, so its cost per request grows with the burst;
the bounded transport's stays flat. Writes --json-out (default
bench/results/downstream_pool.json).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from convene_common.embedded_pg import free_port  # noqa: E402
from convene_common.service_transport import BoundedTransport  # noqa: E402

SERVER = """
import asyncio, os
DELAY = float(os.environ["DOWNSTREAM_DELAY_S"])
BODY = b'{"id": "00000000-0000-4000-8000-000000000000", "title": "a call"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    if DELAY:
        await asyncio.sleep(DELAY)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
"""


def run_light(main: Any) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def make_transport(kind: str, connections: int) -> httpx.AsyncBaseTransport:
    if kind == "httpcore_pool":
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        return httpx.AsyncHTTPTransport(limits=limits)
    return BoundedTransport(max_connections=connections)


async def measure(url: str, kind: str, connections: int, burst: int, total: int) -> dict[str, Any]:
    transport = make_transport(kind, connections)
    timeout = httpx.Timeout(30.0)
    async with httpx.AsyncClient(base_url=url, transport=transport, timeout=timeout) as client:

        async def one() -> None:
            response = await client.get("/v1/calls/x", headers={"X-Request-ID": "bench"})
            response.raise_for_status()

        await asyncio.gather(*(one() for _ in range(min(burst, connections))))  # open the pool
        rounds = max(1, total // burst)
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(rounds):
            await asyncio.gather(*(one() for _ in range(burst)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    requests = rounds * burst
    return {
        "transport": kind,
        "max_connections": connections,
        "burst": burst,
        "requests": requests,
        "client_cpu_ms_per_request": round(cpu / requests * 1000, 3),
        "wall_ms_per_request": round(wall / requests * 1000, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--bursts", type=int, nargs="+", default=[1, 32, 128, 512, 1024])
    parser.add_argument("--requests", type=int, default=4096, help="per (transport, burst)")
    parser.add_argument("--server-ms", type=float, default=5.0)
    parser.add_argument(
        "--json-out", type=Path, default=REPO / "bench" / "results" / "downstream_pool.json"
    )
    args = parser.parse_args()
    variants = [("httpcore_pool", 100), ("bounded", 100), ("bounded", 32)]
    rows: list[dict[str, Any]] = []
    loads: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "downstream_standin.py").write_text(SERVER)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--app-dir", folder, "downstream_standin:app",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
             "--no-access-log", "--backlog", "4096"],
            env={**os.environ, "DOWNSTREAM_DELAY_S": str(args.server_ms / 1000)},
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(url, timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            for burst in args.bursts:
                for kind, connections in variants:
                    row = run_light(measure(url, kind, connections, burst, args.requests))
                    row["loadavg_1m"] = round(os.getloadavg()[0], 2)
                    loads.append(row["loadavg_1m"])
                    rows.append(row)
                    print(  # noqa: T201
                        f"  burst {burst:>5}  {kind:<14} max {connections:>3}:"
                        f" client CPU {row['client_cpu_ms_per_request']:>7.3f} ms/request,"
                        f" wall {row['wall_ms_per_request']:>7.3f} ms/request"
                        f"  (load {row['loadavg_1m']})",
                        flush=True,
                    )
        finally:
            server.terminate()
            server.wait(timeout=10)
    result = {
        "benchmark": "downstream_pool",
        "command": " ".join(["bench/downstream_pool.py", *sys.argv[1:]]),
        "server_ms": args.server_ms,
        "rows": rows,
        "loadavg_1m_range": [min(loads), max(loads)],
        "machine": {"cpus": os.cpu_count()},
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
