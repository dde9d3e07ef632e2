"""Routing benchmark: N synthetic citizens in a real matcher process, calls routed over HTTP.

    .venv/bin/python bench/routing.py --citizens 100000 --calls 200 [--compete]

1. Serves N synthetic citizens (about 10 evidence items each, from a vocabulary of about 1,300
   skill/role/badge/topic texts) as the profiles change feed (GET /v1/changes) from this
   process; the matcher (uvicorn on 127.0.0.1, an embedded PostgreSQL) tails it with its own
   feed consumer (EvidenceService.apply_changes): the feed apply rate is measured end to end
   (HTTP, parsing, embedding each distinct text once, index and store updates).
2. Routes calls through POST /v1/calls/{id}/match: ``--calls`` fresh calls with 1 client and
   with 4 clients (each call's text embedded on its first route: end to end), then the same
   calls again with 4 clients (the call texts come from the embedding cache).
3. recall@100 of the text index: the matcher stays exact at this many distinct texts
   (recall 1 by construction), so HNSW (the matcher's M and efSearch) is built over the same
   text vectors (read from the embedding cache table) and compared with exact search.
4. Peak RSS of the matcher process (VmHWM).

Goals (issue 3): p50 <= 30 ms, p99 <= 80 ms at 4 clients; recall@100 >= 0.98; RSS <= 2 GB;
feed apply >= 500 changes/s. Writes bench/results/routing.json.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import asyncpg
import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _matcher_server import embedded_database, wait_ready

from convene_common.embedded_pg import free_port
from convene_matcher.embedding.text import normalise_text
from convene_matcher.index.evidence_index import EvidenceIndex, IndexParams

RESULTS = Path(__file__).resolve().parent / "results"
BODY = uuid.UUID("00000000-0000-4000-8000-0000000000b1")


def emit(line: str) -> None:
    print(line, flush=True)  # noqa: T201


TOPICS = ["transport", "cycling", "housing", "public health", "schools", "parks", "water supply",
          "renewable energy", "waste and recycling", "libraries", "policing", "elderly care",
          "youth work", "town planning", "air quality", "flood risk", "bus services", "trams",
          "street markets", "tourism", "mental health", "social housing", "disability access",
          "road safety", "childcare", "adult education", "homelessness", "local economy",
          "heritage buildings", "allotments"]  # fmt: skip
CRAFTS = ["engineering", "planning", "data analysis", "community organising", "law",
          "accounting", "design", "teaching", "nursing", "surveying", "mapping", "research",
          "policy writing", "fundraising", "mediation", "software development", "logistics",
          "safety audits", "procurement", "construction", "project management", "translation",
          "public speaking", "social work", "statistics", "environmental science", "economics",
          "architecture", "youth mentoring", "volunteer coordination", "campaigning",
          "journalism", "first aid", "facilitation", "grant writing", "carpentry",
          "electrical work", "gardening", "counselling", "advocacy", "inclusive design",
          "user research"]  # fmt: skip
LEVELS = ["want_to_learn", "can_explain", "can_connect", "can_do"]
ROLES = ["cyclist", "cab-driver", "urban-planner", "transport-engineer", "carer", "teacher",
         "nurse", "shop-owner", "student", "parent", "bus driver", "wheelchair user",
         "tenant", "landlord", "pensioner", "small business owner"]  # fmt: skip
ORGANISATIONS = ["Metro Cabs Ltd", "City Buses", "Northern Water", "Green Build Ltd",
                 "Bench Council"]  # fmt: skip
SKILL_LABELS = [f"{craft} for {topic}" for craft in CRAFTS for topic in TOPICS]


def synthetic(rng: random.Random, zipf: list[float]) -> dict[str, Any]:
    def rid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128)))

    labels = rng.choices(SKILL_LABELS, weights=zipf, k=6)
    now = datetime.now(UTC)
    unavailable = []
    if rng.random() < 0.03:
        start = now + timedelta(days=rng.randint(0, 60))
        unavailable = [{"start": start.isoformat(), "end": (start + timedelta(days=7)).isoformat()}]
    return {
        "citizen_id": rid(),
        "consent": {"matching": rng.random() > 0.05, "contact": True},
        "availability": {
            "max_invitations_per_month": rng.choice([None, 2, 4]),
            "hours_per_month": 4,
            "unavailable": unavailable,
        },
        "place": {
            "authority_code": "E08000003",
            "postcode_area": "M",
            "lat": 53.48 + rng.uniform(-0.5, 0.5),
            "lon": -2.24 + rng.uniform(-0.5, 0.5),
        },
        "languages": ["en"] if rng.random() < 0.9 else ["en", rng.choice(["cy", "pl", "ur"])],
        "access_needs": ["step-free access"] if rng.random() < 0.02 else [],
        "skills": [{"id": rid(), "label": label, "level": rng.choice(LEVELS)} for label in labels],
        "roles": [
            {"id": rid(), "role": r, "label": r.replace("-", " ").capitalize(), "curated": True}
            for r in rng.sample(ROLES, 2)
        ],
        "badges": [
            {
                "id": rid(),
                "name": f"Certificate in {rng.choice(CRAFTS)}",
                "issuer_name": "Open University",
                "verified": rng.random() > 0.5,
            }
        ],
        "affiliations": (
            [{"id": rid(), "organisation": rng.choice(ORGANISATIONS), "kind": "employer"}]
            if rng.random() < 0.1
            else []
        ),
        "contributions": [
            {
                "id": rid(),
                "topic": f"{rng.choice(TOPICS)} consultation",
                "rating": 4,
                "rated_at": now.isoformat(),
            }
        ],
        "rating": {"score": round(rng.uniform(2.5, 4.8), 2), "count": 2},
    }


def call_body(rng: random.Random, number: int) -> dict[str, Any]:
    topic, craft, other = rng.choice(TOPICS), rng.choice(CRAFTS), rng.choice(CRAFTS)
    return {
        "public_body_id": str(BODY),
        "public_body_name": "Bench Council",
        "title": f"Consultation {number}: improving {topic} in the city",
        "description": (
            f"We need {craft} and {other} expertise, and lived experience of {topic}, "
            f"to review our plans (ref {number})."
        ),
        "questions": [f"What should change about {topic} first?"],
        "skills": [{"label": f"{craft} for {topic}"}],
        "perspectives": [
            {"role": role.replace("-", " "), "min": 1, "max": 3} for role in rng.sample(ROLES, 2)
        ],
        "place": {"lat": 53.48, "lon": -2.24, "radius_km": 40},
        "languages": ["en"],
        "conflicts": [rng.choice(ORGANISATIONS)],
        "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "panel_size": 10,
    }


class Feed:
    """The profiles change feed contract, from memory, for the matcher's consumer."""

    def __init__(self, changes: list[bytes]) -> None:
        self.changes = changes

    def page(self, after: int, limit: int) -> bytes:
        items = self.changes[after : after + limit]
        last = after + len(items)
        return (
            b'{"items":['
            + b",".join(items)
            + f'],"last_seq":{last},"head_seq":{len(self.changes)}}}'.encode()
        )


@contextmanager
def serve_feed(feed: Feed) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlparse(self.path).query)
            body = feed.page(int(query.get("after", ["0"])[0]), int(query.get("limit", ["100"])[0]))
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@contextmanager
def matcher_process(dsn: str, profiles_url: str) -> Iterator[tuple[str, int]]:
    port = free_port()
    with tempfile.TemporaryDirectory() as index_dir:
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "CONVENE_MATCHER_DATABASE_URL": dsn,
            "CONVENE_MATCHER_INDEX_DIR": index_dir,
            "CONVENE_MATCHER_PROFILES_URL": profiles_url,
            "CONVENE_MATCHER_FEED_ENABLED": "true",
            "CONVENE_MATCHER_FEED_PAGE_SIZE": "1000",
            "CONVENE_MATCHER_FEED_WAIT_SECONDS": "0",
            "CONVENE_MATCHER_FEED_POLL_SECONDS": "0.2",
            # The JSON store snapshot is not part of this benchmark (see the report).
            "CONVENE_MATCHER_SNAPSHOT_EVERY_CHANGES": "100000000",
            "CONVENE_MATCHER_SNAPSHOT_EVERY_SECONDS": "100000",
            "CONVENE_MATCHER_LOG_LEVEL": "WARNING",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "convene_matcher.main:app_from_env", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
            env=env,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, process, timeout=180)
            yield url, process.pid
        finally:
            process.kill()  # no shutdown snapshot: not measured here
            process.wait(timeout=30)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def route_all(
    client: httpx.AsyncClient, call_ids: list[str], clients: int
) -> tuple[list[float], dict[str, int]]:
    latencies: list[float] = []
    methods: dict[str, int] = {}

    async def worker(worker_id: int) -> None:
        for i in range(worker_id, len(call_ids), clients):
            started = time.perf_counter()
            response = await client.post(
                f"/v1/calls/{call_ids[i]}/match", params={"public_body_id": str(BODY)}
            )
            latencies.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            method = response.json()["stats"]["panel_method"]
            methods[method] = methods.get(method, 0) + 1

    await asyncio.gather(*(worker(w) for w in range(clients)))
    return latencies, methods


async def recall_at_100(dsn: str, query_texts: list[str], params: IndexParams) -> dict[str, Any]:
    """HNSW vs exact over the evidence texts' vectors, from the matcher's embedding cache."""
    evidence = {normalise_text(t) for t in SKILL_LABELS}
    evidence |= {normalise_text(r.replace("-", " ").capitalize()) for r in ROLES}
    evidence |= {normalise_text(f"Certificate in {c}. Issued by Open University") for c in CRAFTS}
    evidence |= {normalise_text(f"{t} consultation") for t in TOPICS}

    def key(text: str) -> bytes:
        return hashlib.sha256(text.encode()).digest()

    connection = await asyncpg.connect(dsn, server_settings={"search_path": "matcher"})
    try:
        rows = await connection.fetch("SELECT text_key, vector FROM embedding_cache")
    finally:
        await connection.close()
    stored = {bytes(r["text_key"]): np.frombuffer(r["vector"], dtype=np.float32) for r in rows}
    text_vectors = np.stack([stored[key(t)] for t in sorted(evidence) if key(t) in stored])
    queries = np.stack(
        [stored[key(normalise_text(t))] for t in query_texts if key(normalise_text(t)) in stored]
    )
    ids = np.arange(len(text_vectors), dtype=np.int64)
    k = min(100, len(ids))
    exact = EvidenceIndex.build(
        model_name="m", dimension=text_vectors.shape[1], ids=ids, vectors=text_vectors,
        params=IndexParams(exact_max_items=10**9),
    )  # fmt: skip
    hnsw = EvidenceIndex.build(
        model_name="m", dimension=text_vectors.shape[1], ids=ids, vectors=text_vectors,
        params=IndexParams(exact_max_items=0, hnsw_m=params.hnsw_m,
                           hnsw_ef_search=params.hnsw_ef_search,
                           hnsw_ef_construction=params.hnsw_ef_construction),
    )  # fmt: skip
    _, truth = exact.search(queries, k)
    _, found = hnsw.search(queries, k)
    recall = float(
        np.mean(
            [len(set(t) & set(f)) / k for t, f in zip(truth.tolist(), found.tolist(), strict=True)]
        )
    )
    return {"texts": len(ids), "queries": len(queries), "k": k, "hnsw_recall": recall,
            "hnsw_m": params.hnsw_m, "hnsw_ef_search": params.hnsw_ef_search}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--compete", action="store_true", help="a busy process on one core")
    parser.add_argument(
        "--json-out", type=Path, default=None, help="(default results/routing[-compete].json)"
    )
    args = parser.parse_args()
    rng = random.Random(1)
    zipf = [1 / (rank + 1) ** 0.8 for rank in range(len(SKILL_LABELS))]
    rng.shuffle(zipf)
    changes = []
    for seq in range(1, args.citizens + 1):
        snap = synthetic(rng, zipf)
        change = {"seq": seq, "citizen_id": snap["citizen_id"], "kind": "upsert",
                  "occurred_at": "2026-01-01T00:00:00Z", "snapshot": snap}  # fmt: skip
        changes.append(json.dumps(change, separators=(",", ":")).encode())
    competitor = None
    if args.compete:
        competitor = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        with (
            embedded_database() as (_, dsn),
            serve_feed(Feed(changes)) as feed_url,
            matcher_process(dsn, feed_url) as (url, pid),
        ):
            results = asyncio.run(run(args, dsn, url, pid, rng))
    finally:
        if competitor is not None:
            competitor.kill()
            competitor.wait()
    name = "routing-compete.json" if args.compete else "routing.json"
    json_out: Path = args.json_out or RESULTS / name
    json_out.parent.mkdir(parents=True, exist_ok=True)
    json_out.write_text(json.dumps(results, indent=2))


async def run(
    args: argparse.Namespace, dsn: str, url: str, pid: int, rng: random.Random
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        started = time.perf_counter()
        while True:
            status = (await client.get("/v1/index/status")).json()
            if status["last_seq"] >= args.citizens:
                break
            await asyncio.sleep(0.2)
        apply_seconds = time.perf_counter() - started
        emit(
            f"feed: {args.citizens} changes in {apply_seconds:.1f} s "
            f"({args.citizens / apply_seconds:.0f}/s), {status['items']} distinct texts "
            f"({status['kind']}), {status['citizens']} citizens; RSS {peak_rss_mb(pid):.0f} MB"
        )
        bodies = [call_body(rng, n) for n in range(3 * args.calls)]
        ids = []
        for body in bodies:
            response = await client.post("/v1/calls", json=body)
            if response.status_code != 201:
                raise RuntimeError(response.text)
            ids.append(response.json()["id"])
        single, _ = await route_all(client, ids[: args.calls // 2], 1)
        cold, methods = await route_all(client, ids[args.calls : 2 * args.calls], 4)
        warm, _ = await route_all(client, ids[args.calls : 2 * args.calls], 4)
        rss = peak_rss_mb(pid)
    query_texts = []
    for body in bodies[: args.calls]:
        parts = [body["title"], body["description"], *body["questions"],
                 "Skills wanted: " + body["skills"][0]["label"]]  # fmt: skip
        query_texts.append(". ".join(p.strip().rstrip(".") for p in parts))
    recall = await recall_at_100(dsn, query_texts[: args.calls // 2], IndexParams())
    rows = {
        "1 client, fresh calls": single,
        "4 clients, fresh calls": cold,
        "4 clients, calls routed again": warm,
    }
    emit("| routing (POST /v1/calls/{id}/match) | calls | p50 ms | p99 ms | mean ms |")
    emit("|---|---|---|---|---|")
    for name, values in rows.items():
        emit(
            f"| {name} | {len(values)} | {statistics.median(values):.1f} | "
            f"{percentile(values, 0.99):.1f} | {statistics.fmean(values):.1f} |"
        )
    emit(f"panel methods (4 clients, fresh): {methods}")
    emit(
        f"text index: {status['kind']} over {status['items']} texts (recall 1.0 by construction);"
        f" HNSW M={recall['hnsw_m']} efSearch={recall['hnsw_ef_search']} over the same "
        f"{recall['texts']} vectors: recall@{recall['k']} {recall['hnsw_recall']:.4f}"
    )
    emit(f"matcher peak RSS: {rss:.0f} MB; feed apply: {args.citizens / apply_seconds:.0f}/s")
    return {
        "citizens": args.citizens,
        "compete": args.compete,
        "feed_changes_per_s": args.citizens / apply_seconds,
        "distinct_texts": status["items"],
        "index_kind": status["kind"],
        "latency_ms": {
            name: {"n": len(v), "p50": statistics.median(v), "p99": percentile(v, 0.99)}
            for name, v in rows.items()
        },
        "panel_methods": methods,
        "recall": recall,
        "peak_rss_mb": rss,
    }


if __name__ == "__main__":
    main()
