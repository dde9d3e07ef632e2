"""Routing benchmark: N synthetic citizens in the matcher, calls routed through its HTTP API.

    .venv/bin/python bench/routing.py --citizens 100000 --clients 4 --calls 200

Loads citizens (about 10 evidence items each, drawn from a vocabulary so each distinct text
is embedded once) through the feed's entry point (EvidenceService.apply_changes), posts calls
and routes them with ``--clients`` concurrent clients through the matcher app in-process
(httpx ASGITransport, the real lifespan, an embedded PostgreSQL). Prints p50/p99 routing
latency, recall@100 of the index against exact search, and the process RSS.
Goals: p50 <= 30 ms, p99 <= 80 ms, recall@100 >= 0.98, RSS <= 2 GB.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _matcher_server import embedded_database

from convene_matcher.citizens.schemas import Change, MatchSnapshot
from convene_matcher.config import MatcherSettings
from convene_matcher.main import create_app

TOPICS = ["transport", "cycling", "housing", "health", "schools", "parks", "water", "energy",
          "waste", "libraries", "policing", "elderly care", "youth work", "planning",
          "air quality", "flooding", "buses", "trams", "markets", "tourism"]  # fmt: skip
SKILLS = ["engineering", "planning", "data analysis", "community organising", "law",
          "accounting", "design", "teaching", "nursing", "surveying", "mapping", "research",
          "policy", "fundraising", "mediation", "software", "logistics", "safety audits",
          "procurement", "construction"]  # fmt: skip
LEVELS = ["want_to_learn", "can_explain", "can_connect", "can_do"]
ROLES = ["cyclist", "cab-driver", "urban-planner", "transport-engineer", "carer", "teacher",
         "nurse", "shop-owner", "student", "parent"]  # fmt: skip
BODY = uuid.UUID("00000000-0000-4000-8000-0000000000b1")


def synthetic(rng: random.Random) -> MatchSnapshot:
    def rid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128)))

    skills = [
        {"id": rid(), "label": f"{rng.choice(SKILLS)} for {rng.choice(TOPICS)}",
         "level": rng.choice(LEVELS)}
        for _ in range(6)
    ]  # fmt: skip
    return MatchSnapshot.model_validate(
        {
            "citizen_id": rid(),
            "consent": {"matching": rng.random() > 0.05, "contact": True},
            "availability": {"max_invitations_per_month": rng.choice([None, 2, 4])},
            "place": {"lat": 53.48 + rng.uniform(-0.5, 0.5), "lon": -2.24 + rng.uniform(-0.5, 0.5)},
            "languages": ["en"],
            "skills": skills,
            "roles": [
                {"id": rid(), "role": r, "label": r.replace("-", " "), "curated": True}
                for r in rng.sample(ROLES, 2)
            ],
            "badges": [
                {
                    "id": rid(),
                    "name": f"Certificate in {rng.choice(SKILLS)}",
                    "verified": rng.random() > 0.5,
                }
            ],
            "contributions": [
                {"id": rid(), "topic": f"{rng.choice(TOPICS)} consultation", "rating": 4}
            ],
        }
    )


def call_body(rng: random.Random) -> dict[str, Any]:
    topic, skill = rng.choice(TOPICS), rng.choice(SKILLS)
    return {
        "public_body_id": str(BODY),
        "public_body_name": "Bench Council",
        "title": f"Improving {topic} in the city",
        "description": f"We need {skill} expertise and lived experience of {topic}.",
        "skills": [{"label": f"{skill} for {topic}"}],
        "perspectives": [{"role": rng.choice(ROLES).replace("-", " "), "min": 1, "max": 3}],
        "place": {"lat": 53.48, "lon": -2.24, "radius_km": 40},
        "languages": ["en"],
        "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "panel_size": 10,
    }


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run(args: argparse.Namespace, dsn: str, index_dir: Path) -> None:
    settings = MatcherSettings(
        environment="test", database_url=dsn, index_dir=index_dir, feed_enabled=False,
        log_level="WARNING",
    )  # fmt: skip
    app = create_app(settings)
    rng = random.Random(1)
    async with app.router.lifespan_context(app):
        evidence = app.state.evidence
        started = time.perf_counter()
        page: list[Change] = []
        for seq in range(1, args.citizens + 1):
            snap = synthetic(rng)
            page.append(Change(seq=seq, citizen_id=snap.citizen_id, kind="upsert", snapshot=snap))
            if len(page) == 2_000:
                await evidence.apply_changes(page)
                page = []
        if page:
            await evidence.apply_changes(page)
        if evidence.index.needs_rebuild:
            await evidence.compact()
        time.perf_counter() - started

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            call_ids = []
            for _ in range(args.distinct_calls):
                response = await client.post("/v1/calls", json=call_body(rng))
                response.raise_for_status()
                call_ids.append(response.json()["id"])
            for call_id in call_ids:  # warm the embedding cache for the call texts
                await client.post(
                    f"/v1/calls/{call_id}/match", params={"public_body_id": str(BODY)}
                )
            latencies: list[float] = []
            methods: dict[str, int] = {}

            async def worker(worker_id: int) -> None:
                for i in range(worker_id, args.calls, args.clients):
                    t0 = time.perf_counter()
                    response = await client.post(
                        f"/v1/calls/{call_ids[i % len(call_ids)]}/match",
                        params={"public_body_id": str(BODY)},
                    )
                    latencies.append((time.perf_counter() - t0) * 1000)
                    response.raise_for_status()
                    method = response.json()["stats"]["panel_method"]
                    methods[method] = methods.get(method, 0) + 1

            await asyncio.gather(*(worker(w) for w in range(args.clients)))

        # recall@100 of the index vs exact search, on the call query vectors
        texts = [f"Improving {t} in the city. We need {s} expertise" for t, s in
                 zip(TOPICS, SKILLS, strict=True)]  # fmt: skip
        queries = await evidence.embedder.embed(texts, pool=None, persist=False)
        _, approx = await evidence.search(queries, 100)
        ids, vectors = evidence.index.live_vectors()
        # Many items share a text (equal similarity): an approximate hit counts when its
        # exact similarity reaches the 100th best exact similarity.
        sims = queries @ vectors.T
        kth = -np.sort(-sims, axis=1)[:, 99]
        sim_of = [dict(zip(ids.tolist(), row.tolist(), strict=True)) for row in sims]
        float(
            np.mean(
                [
                    sum(1 for i in row if i >= 0 and sim_of[q][int(i)] >= kth[q] - 1e-6) / 100
                    for q, row in enumerate(approx)
                ]
            )
        )

    latencies.sort()
    statistics.median(latencies)
    latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--citizens", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--distinct-calls", type=int, default=20)
    args = parser.parse_args()
    import tempfile

    with embedded_database() as (_, dsn), tempfile.TemporaryDirectory() as index_dir:
        asyncio.run(run(args, dsn, Path(index_dir)))


if __name__ == "__main__":
    main()
