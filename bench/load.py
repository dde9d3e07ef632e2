"""Load on the public gateway: authenticated reads at a fixed arrival rate, then routing calls.

    .venv/bin/python bench/load.py                      # 60 s of reads at 200/s, 60 s of routing
    .venv/bin/python bench/load.py --duration 20        # shorter, on a busy machine
    .venv/bin/python bench/load.py --runs 5             # five consecutive runs (the default)

Like `make run`: an embedded PostgreSQL, 2,000 demo citizens (scripts.demo.citizens, seed 7),
the three services under uvicorn on 127.0.0.1, a public body with an API key and a citizen
with a bearer token. Then, open-loop (requests start on a fixed schedule, whether or not
earlier ones have answered, and latency counts from the scheduled start, so a stall is not
hidden by a client that waits):

1. reads: GET /v1/me (citizen token; gateway -> profiles) and GET /v1/calls/{id} (API key;
   gateway -> matcher), alternating, at --rate requests/s for --duration s.
   Goal: p99 < 100 ms with 0 errors at 200/s.
2. routing: POST /v1/calls/{id}/match over six calls at --routing-rate/s for
   --routing-duration s (p50/p99 as in bench/gateway_routing.py).

The load generator is a Python asyncio client (httpx) in this process: no wrk or locust needed
(wrk is closed-loop: it waits for answers, so it would hide the stalls this run counts). It
shares the machine's cores with the services, so it is kept light: the reads go through a
minimal HTTP/1.1 keep-alive client (KeepAliveClient: GET, Content-Length bodies; httpx cost
~1 ms of CPU per request and its pool grows quadratically busy with a backlog), everything
else through httpx, all on uvloop when installed (the services' own dependency).
Rate limits stay on, raised above the offered load, so their cost is measured too. Prints a
table and writes --json-out (default bench/results/load.json). Everything stops by itself.

The two phases run --runs times in a row (default 5) against the same services, and every
run is reported, not the best: a stall that comes once in a few minutes (a snapshot, a
checkpoint, a cache expiring) shows up. Beside each run's latencies, measures that a busy
machine does not fake are recorded during its reads (ServiceWatch): each service's CPU
milliseconds per read (/proc), the gateway's event-loop lag and GC pauses (its /metrics
histograms, convene_event_loop_lag_seconds and convene_gc_pause_seconds), and the load
average at the start and end of the run: latencies from a machine whose load average is
far above its 2 cores measure the machine, CPU per read measures the code.
The first time in a run that a read is unanswered --stall-ms after its scheduled start,
each service's stacks are dumped with py-spy into --stall-dir, so the stall can be located.
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
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.gateway_routing import CALLS, call_body, wait_caught_up  # noqa: E402
from convene_common.embedded_pg import EmbeddedPostgres, free_port  # noqa: E402
from scripts.suite import SERVICES, Suite, prepare_database, run_module  # noqa: E402

DATABASE = "convene_load_bench"
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@load.example", "load-bench-admin-password"
CITIZEN_EMAIL, CITIZEN_PASSWORD = "citizen@load.example", "load-bench-citizen-password"
GOALS = {"reads_p99_ms": 100.0, "reads_errors": 0}
REQUEST_TIMEOUT = 30.0
MAX_IN_FLIGHT = 2_000  # beyond this the generator stops scheduling: the run has failed anyway
MAX_CONNECTIONS = 512  # the reads' keep-alive connections to the gateway
T = TypeVar("T")


def run_light(main: Coroutine[Any, Any, T]) -> T:
    """uvloop when installed: the generator's own CPU competes with the services it measures."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Phase:
    name: str
    rate: float
    duration: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    skipped: int = 0
    wall_seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        ok = self.latencies_ms
        return {
            "offered_rate_per_s": self.rate,
            "duration_s": self.duration,
            "requests": self.sent,
            "ok": len(ok),
            "errors": sum(self.errors.values()) + self.skipped,
            "error_kinds": dict(self.errors) | ({"skipped": self.skipped} if self.skipped else {}),
            "achieved_rate_per_s": round(len(ok) / self.wall_seconds, 1)
            if self.wall_seconds
            else 0,
            "p50_ms": round(statistics.median(ok), 1) if ok else None,
            "p95_ms": round(percentile(ok, 0.95), 1) if ok else None,
            "p99_ms": round(percentile(ok, 0.99), 1) if ok else None,
            "max_ms": round(max(ok), 1) if ok else None,
        }


class KeepAliveClient:
    """GETs over at most `max_connections` kept-alive HTTP/1.1 connections; a request waits for
    a free one (that wait counts in its latency: the schedule is the clock). A connection idle
    for IDLE_SECONDS is dropped before uvicorn's keep-alive timeout (5 s) can close it under us.
    """

    IDLE_SECONDS = 2.0

    def __init__(self, url: str, *, max_connections: int) -> None:
        parsed = httpx.URL(url)
        self._host, self._port = parsed.host, parsed.port or 80
        self._host_header = f"Host: {self._host}:{self._port}\r\n".encode()
        # (reader, writer, last used): the most recently used on top.
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self._slots = asyncio.Semaphore(max_connections)

    async def get(self, path: str, headers: bytes) -> int:
        """The status; the body is read and dropped. `headers`: complete header lines."""
        request = b"GET " + path.encode() + b" HTTP/1.1\r\n" + self._host_header + headers + b"\r\n"
        async with self._slots:
            reader, writer, reused = await self._connection()
            try:
                status = await self._exchange(reader, writer, request)
                if status is None and reused:
                    # Closed by the server while idle, before any answer: a GET may be resent.
                    writer.close()
                    reader, writer = await asyncio.open_connection(self._host, self._port)
                    status = await self._exchange(reader, writer, request)
                if status is None:
                    raise ConnectionResetError("closed before an answer")
            except BaseException:
                writer.close()
                raise
            return status

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bool]:
        now = time.monotonic()
        while self._idle:
            reader, writer, last_used = self._idle.pop()
            if now - last_used < self.IDLE_SECONDS and not reader.at_eof():
                return reader, writer, True
            writer.close()
        reader, writer = await asyncio.open_connection(self._host, self._port)
        return reader, writer, False

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
    ) -> int | None:
        writer.write(request)
        status_line = await reader.readline()
        if not status_line:
            return None
        status = int(status_line.split(b" ", 2)[1])
        length, keep = None, True
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                keep = value.strip().lower() != b"close"
        if length is None:
            raise ValueError("no Content-Length in the answer")
        await reader.readexactly(length)
        if keep:
            self._idle.append((reader, writer, time.monotonic()))
        else:
            writer.close()
        return status

    def close(self) -> None:
        for _, writer, _ in self._idle:
            writer.close()
        self._idle.clear()


def header_lines(headers: dict[str, str]) -> bytes:
    return "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def histogram_counts(text: str, name: str, **labels: str) -> dict[float, float]:
    """Cumulative bucket counts (upper bound -> count) of one Prometheus histogram series,
    summed over the series' other labels."""
    from prometheus_client.parser import text_string_to_metric_families

    counts: dict[float, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != name:
            continue
        for sample in family.samples:
            if sample.name != f"{name}_bucket":
                continue
            if any(sample.labels.get(k) != v for k, v in labels.items()):
                continue
            bound = float(sample.labels["le"])
            counts[bound] = counts.get(bound, 0.0) + sample.value
    return counts


def histogram_delta(before: dict[float, float], after: dict[float, float]) -> dict[str, Any]:
    """Samples between two scrapes: how many, the smallest bucket bound holding all of them
    (the maximum, to the bucket), and how many exceeded 100 ms."""
    delta = {bound: after[bound] - before.get(bound, 0.0) for bound in sorted(after)}
    total = delta.get(float("inf"), 0.0)
    max_le = next((bound for bound, count in delta.items() if count >= total), None)
    over_100ms = total - delta.get(0.1, total)
    return {
        "samples": int(total),
        "max_at_most_s": None if max_le is None or total == 0 else max_le,
        "over_100ms": int(over_100ms),
    }


class ServiceWatch:
    """Per run: each service's CPU time, and the gateway's event-loop lag and GC pauses from
    its /metrics: deterministic-ish measures of a stall that a busy machine does not fake
    (CPU per request does not grow with a neighbour's load; a loop held by our own code
    shows as lag even when the machine is quiet)."""

    def __init__(self, pids: dict[str, int], gateway_url: str) -> None:
        self.pids, self.gateway_url = pids, gateway_url
        self._cpu: dict[str, float] = {}
        self._lag: dict[float, float] = {}
        self._gc: dict[float, float] = {}
        self._loadavg: float = 0.0

    async def _scrape(self, client: httpx.AsyncClient) -> str:
        return (await client.get(f"{self.gateway_url}/metrics")).text

    async def start(self, client: httpx.AsyncClient) -> None:
        text = await self._scrape(client)
        self._lag = histogram_counts(text, "convene_event_loop_lag_seconds")
        self._gc = histogram_counts(text, "convene_gc_pause_seconds")
        self._cpu = {name: process_cpu_seconds(pid) for name, pid in self.pids.items()}
        self._loadavg = os.getloadavg()[0]

    async def stop(self, client: httpx.AsyncClient, *, requests: int) -> dict[str, Any]:
        cpu = {name: process_cpu_seconds(pid) - self._cpu[name] for name, pid in self.pids.items()}
        text = await self._scrape(client)
        return {
            "loadavg_1m_start": round(self._loadavg, 2),
            "loadavg_1m_end": round(os.getloadavg()[0], 2),
            "cpu_ms_per_request": {
                name: round(seconds * 1000 / max(requests, 1), 3) for name, seconds in cpu.items()
            },
            "gateway_loop_lag": histogram_delta(
                self._lag, histogram_counts(text, "convene_event_loop_lag_seconds")
            ),
            "gateway_gc_pauses": histogram_delta(
                self._gc, histogram_counts(text, "convene_gc_pause_seconds")
            ),
        }


Request = Callable[[int], Awaitable[int]]
TRANSPORT_ERRORS = (httpx.HTTPError, OSError, asyncio.IncompleteReadError, ValueError, IndexError)


async def open_loop(
    phase: Phase,
    request: Request,
    *,
    on_stall: Callable[[], Awaitable[None]] | None = None,
    stall_ms: float = 1000.0,
) -> None:
    """Starts request `i` at start + i/rate; latency counts from that scheduled instant.
    ``on_stall`` is awaited (once per phase, in its own task) when a request is still
    unanswered ``stall_ms`` after its scheduled start."""
    total = int(phase.rate * phase.duration)
    in_flight: set[asyncio.Task[None]] = set()
    pending: dict[int, float] = {}
    watcher: asyncio.Task[None] | None = None
    stalled: list[float] = []

    async def watch() -> None:
        assert on_stall is not None
        while True:
            await asyncio.sleep(0.1)
            now = time.perf_counter()
            if pending and (now - min(pending.values())) * 1000 > stall_ms:
                stalled.append(now)
                await on_stall()
                return

    async def one(number: int, scheduled: float) -> None:
        pending[number] = scheduled
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                status = await request(number)
        except (*TRANSPORT_ERRORS, TimeoutError) as exc:
            phase.errors[type(exc).__name__] += 1
            return
        finally:
            pending.pop(number, None)
        if status == 200:
            phase.latencies_ms.append((time.perf_counter() - scheduled) * 1000)
        else:
            phase.errors[str(status)] += 1

    if on_stall is not None:
        watcher = asyncio.create_task(watch())
    start = time.perf_counter()
    for number in range(total):
        scheduled = start + number / phase.rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(in_flight) >= MAX_IN_FLIGHT:
            phase.skipped += 1
            continue
        task = asyncio.create_task(one(number, scheduled))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
        phase.sent += 1
    if in_flight:
        await asyncio.wait(in_flight, timeout=REQUEST_TIMEOUT + 5)
    phase.wall_seconds = time.perf_counter() - start
    if watcher is not None:
        if stalled:  # the dumps are being written: let them finish
            await asyncio.wait_for(watcher, timeout=120)
        else:
            watcher.cancel()


async def prepare(url: str, api_key: str) -> tuple[str, list[str], dict[str, str]]:
    """A citizen's token, the six calls, the admin's headers."""
    async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT) as client:
        registered = await client.post(
            "/v1/citizens",
            json={"email": CITIZEN_EMAIL, "password": CITIZEN_PASSWORD, "display_name": "Load"},
        )
        registered.raise_for_status()
        token = await client.post(
            "/v1/auth/token", data={"username": CITIZEN_EMAIL, "password": CITIZEN_PASSWORD}
        )
        token.raise_for_status()
        admin = await client.post(
            "/v1/auth/token", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        admin.raise_for_status()
        admin_headers = {"Authorization": f"Bearer {admin.json()['access_token']}"}
        await wait_caught_up(client, admin_headers, timeout=900)
        call_ids = []
        for index in range(len(CALLS)):
            created = await client.post(
                "/v1/calls", headers={"X-API-Key": api_key}, json=call_body(index)
            )
            created.raise_for_status()
            call_ids.append(created.json()["id"])
        return token.json()["access_token"], call_ids, admin_headers


class StallWatch:
    """Dumps every service's Python stacks (py-spy) the first time in a run that a request
    has been in flight longer than ``threshold_ms``: the stacks show where the stall is."""

    def __init__(self, pids: dict[str, int], out_dir: Path, *, threshold_ms: float) -> None:
        self.pids, self.out_dir, self.threshold_ms = pids, out_dir, threshold_ms
        self.spy = Path(sys.executable).with_name("py-spy")
        self.dumps: list[str] = []
        self.fired = False

    async def dump(self, label: str) -> None:
        if self.fired or not self.spy.exists():
            return
        self.fired = True
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for name, pid in self.pids.items():
            path = self.out_dir / f"stall-{label}-{name}.txt"
            process = await asyncio.create_subprocess_exec(
                str(self.spy), "dump", "--pid", str(pid),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
            output, _ = await process.communicate()
            path.write_bytes(output)
            self.dumps.append(str(path.relative_to(REPO) if path.is_relative_to(REPO) else path))


async def measure(
    url: str,
    api_key: str,
    args: argparse.Namespace,
    watch: StallWatch | None = None,
    services: ServiceWatch | None = None,
) -> tuple[list[tuple[Phase, Phase, dict[str, Any]]], dict[str, Any]]:
    citizen_token, call_ids, admin_headers = await prepare(url, api_key)
    citizen = {"Authorization": f"Bearer {citizen_token}"}
    body = {"X-API-Key": api_key}
    citizen_lines, body_lines = header_lines(citizen), header_lines(body)
    reader = KeepAliveClient(url, max_connections=MAX_CONNECTIONS)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT, limits=limits) as client:

        async def read(number: int) -> int:
            if number % 2 == 0:
                return await reader.get("/v1/me", citizen_lines)
            return await reader.get(f"/v1/calls/{call_ids[number % len(call_ids)]}", body_lines)

        async def route(number: int) -> int:
            path = f"/v1/calls/{call_ids[number % len(call_ids)]}/match"
            return (await client.post(path, headers=body)).status_code

        # Warm-up (connections, first embeddings of the call texts), not measured.
        for number in range(2 * len(call_ids)):
            if (status := await read(number)) != 200:
                raise RuntimeError(f"warm-up read answered {status}")
        for number in range(len(call_ids)):
            (
                await client.post(f"/v1/calls/{call_ids[number]}/match", headers=body)
            ).raise_for_status()

        runs: list[tuple[Phase, Phase, dict[str, Any]]] = []
        for run in range(1, args.runs + 1):
            reads = Phase("reads", rate=args.rate, duration=args.duration)
            if services is not None:
                await services.start(client)
            if watch is not None:
                watch.fired = False
                label = f"run{run}"
                await open_loop(reads, read, on_stall=lambda label=label: watch.dump(label),
                                stall_ms=watch.threshold_ms)  # fmt: skip
            else:
                await open_loop(reads, read)
            observed = (
                await services.stop(client, requests=reads.sent) if services is not None else {}
            )
            routing = Phase("routing", rate=args.routing_rate, duration=args.routing_duration)
            await open_loop(routing, route)
            runs.append((reads, routing, observed))
            print(f"  run {run}: reads {reads.summary()} {observed}", flush=True)  # noqa: T201
        reader.close()
        status = (await client.get("/v1/admin/index/status", headers=admin_headers)).json()
    # .get: an overloaded gateway may answer this last request with a problem, not a status.
    return runs, {k: status.get(k) for k in ("kind", "items", "citizens", "last_seq")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of reads")
    parser.add_argument("--rate", type=float, default=200.0, help="reads per second")
    parser.add_argument("--routing-rate", type=float, default=5.0, help="matches per second")
    parser.add_argument(
        "--routing-duration", type=float, default=None, help="seconds of routing (= --duration)"
    )
    parser.add_argument("--citizens", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json-out", type=Path, default=REPO / "bench" / "results" / "load.json")
    parser.add_argument("--runs", type=int, default=5, help="consecutive runs, all reported")
    parser.add_argument(
        "--gateway-env", action="append", default=[], metavar="NAME=VALUE",
        help="extra gateway setting, e.g. CONVENE_GATEWAY_DOWNSTREAM_MAX_CONNECTIONS=16",
    )  # fmt: skip
    parser.add_argument("--stall-ms", type=float, default=1000.0, help="py-spy dump threshold")
    parser.add_argument(
        "--stall-dir", type=Path, default=REPO / "bench" / "results" / "load-stalls"
    )
    args = parser.parse_args()
    if args.routing_duration is None:
        args.routing_duration = args.duration

    base = REPO / ".run" / f"bench-load-{os.getpid()}"
    cluster = EmbeddedPostgres(base / "pg")
    cluster.start()
    suite: Suite | None = None
    try:
        asyncio.run(prepare_database(cluster, DATABASE))
        run_module(
            "scripts.demo.citizens",
            "--dsn", cluster.dsn(DATABASE, role="convene_profiles"),
            "--count", str(args.citizens), "--seed", str(args.seed),
        )  # fmt: skip
        bootstrap = json.loads(
            run_module(
                "convene_gateway.bootstrap",
                "--dsn", cluster.dsn(DATABASE, role="convene_gateway"),
                "--admin-email", ADMIN_EMAIL, "--admin-password", ADMIN_PASSWORD,
                "--organisation", "Load City Council", "--print-api-key",
            )
        )  # fmt: skip
        generous = {"burst": 100_000, "per_minute": 1_000_000}
        rate_limits = {"per_client": generous, "per_principal": generous}
        extra_env = {name: {f"CONVENE_{name.upper()}_LOG_LEVEL": "WARNING"} for name in SERVICES}
        extra_env["gateway"]["CONVENE_GATEWAY_RATE_LIMITS"] = json.dumps(rate_limits)
        for setting in args.gateway_env:  # A/B runs of a gateway setting, e.g. its pool size
            name, _, value = setting.partition("=")
            extra_env["gateway"][name] = value
        suite = Suite(
            cluster=cluster,
            database=DATABASE,
            ports={name: free_port() for name in SERVICES},
            run_dir=base,
            internal_token=secrets.token_urlsafe(16),
            jwt_secret=secrets.token_urlsafe(32),
            environment="test",
            extra_env=extra_env,
        )
        suite.start_all()
        suite.wait_all_ready(timeout=600)
        pids = {name: suite.processes[name].process.pid for name in SERVICES}
        watch = StallWatch(pids, args.stall_dir.resolve(), threshold_ms=args.stall_ms)
        services = ServiceWatch(pids, suite.url("gateway"))
        runs, index = run_light(
            measure(suite.url("gateway"), bootstrap["api_key"], args, watch, services)
        )
    finally:
        if suite is not None:
            suite.stop_all()
        cluster.stop(mode="immediate")
        shutil.rmtree(base, ignore_errors=True)

    summaries = []
    for reads, routing, observed in runs:
        read_figures = reads.summary()
        summaries.append(
            {
                "reads": read_figures,
                "routing": routing.summary(),
                "during_reads": observed,
                "reads_goal_met": read_figures["p99_ms"] is not None
                and read_figures["p99_ms"] < GOALS["reads_p99_ms"]
                and read_figures["errors"] == GOALS["reads_errors"],
            }
        )
    result = {
        "benchmark": "load",
        "command": " ".join(["bench/load.py", *sys.argv[1:]]),
        "citizens": args.citizens,
        "gateway_env": args.gateway_env,
        "runs": summaries,
        "runs_meeting_goal": sum(s["reads_goal_met"] for s in summaries),
        "all_runs_meet_goal": all(s["reads_goal_met"] for s in summaries),
        # The first run's figures under the old names (every run is in "runs").
        "reads": summaries[0]["reads"],
        "routing": summaries[0]["routing"],
        "reads_goal_met": all(s["reads_goal_met"] for s in summaries),
        "stall_dumps": watch.dumps,
        "goals": GOALS,
        "index": index,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    header = f"  {'run':<4} {'phase':<9} {'offered/s':>9} {'achieved/s':>10} {'requests':>8}"
    header += f" {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7}"
    print(  # noqa: T201
        f"gateway load ({args.citizens:,} demo citizens; reads = GET /v1/me + GET /v1/calls/{{id}},"
        f" routing = POST /v1/calls/{{id}}/match; open loop; {args.runs} consecutive runs)"
    )
    print(header)  # noqa: T201
    for number, summary in enumerate(summaries, start=1):
        for name in ("reads", "routing"):
            figures = summary[name]
            print(  # noqa: T201
                f"  {number:<4} {name:<9} {figures['offered_rate_per_s']:>9g}"
                f" {figures['achieved_rate_per_s']:>10g} {figures['requests']:>8}"
                f" {figures['errors']:>6} {figures['p50_ms']!s:>7} {figures['p95_ms']!s:>7}"
                f" {figures['p99_ms']!s:>7} {figures['max_ms']!s:>7}"
            )
            if figures["error_kinds"]:
                print(f"       errors: {figures['error_kinds']}")  # noqa: T201
        if observed := summary["during_reads"]:
            lag = observed["gateway_loop_lag"]
            print(  # noqa: T201
                f"       during reads: load {observed['loadavg_1m_start']}->"
                f"{observed['loadavg_1m_end']}; CPU ms/read {observed['cpu_ms_per_request']};"
                f" gateway loop lag max <= {lag['max_at_most_s']} s ({lag['over_100ms']} of"
                f" {lag['samples']} wake-ups > 100 ms); GC pause max <="
                f" {observed['gateway_gc_pauses']['max_at_most_s']} s"
            )
    verdict = f"{result['runs_meeting_goal']} of {len(summaries)} runs met"
    print(f"  goal (each run: reads p99 < {GOALS['reads_p99_ms']:.0f} ms, 0 errors): {verdict}")  # noqa: T201
    if watch.dumps:
        print(f"  py-spy dumps of stalls (> {args.stall_ms:.0f} ms): {', '.join(watch.dumps)}")  # noqa: T201
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
