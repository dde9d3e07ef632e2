"""Batch routing benchmark through the real pipeline: many calls at once under monthly caps
vs routing them in turn, on real store data.

    .venv/bin/python bench/batch_routing.py [--calls 200] [--citizens 20000]

1. The routing benchmark's citizens (bench/routing.py ``synthetic``: about 10 evidence
   items each from a vocabulary of about 1,300 skill/role/badge/topic texts, roles, places,
   affiliations), with tighter monthly caps (1: 30%, 2: 30%, 4: 20%, none: 20%), served as
   the profiles change feed; a real matcher process (uvicorn, an embedded PostgreSQL, the
   real MiniLM model) tails it.
2. ``--calls`` calls (bench/routing.py ``call_body``: panel size 10, two role quotas, a
   place, a declared conflict) posted, then one ``POST /v1/routing-batches`` with all of
   them: routing's own pipeline per call (``routing.service.route_calls``: lexical part,
   feedback damping, filters, score; the same ranking as ``POST /v1/calls/{id}/match``), the
   sequential baseline and the batch solver, the batch and each call's match rows stored
   (the panels can be invited by ref).

The call count must be one the API accepts: at most ``batch.schemas.MAX_BATCH_CALLS`` (500)
per batch; the default, 200, is what this 2-core machine measures in a few minutes.
Goal (issue 5): solve in <= 30 s, total score >= sequential, 0 cap violations.
Writes bench/results/batch_routing.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _matcher_server import embedded_database
from routing import (
    BODY,
    SKILL_LABELS,
    Feed,
    call_body,
    emit,
    matcher_process,
    peak_rss_mb,
    serve_feed,
    synthetic,
)

from convene_matcher.batch.schemas import MAX_BATCH_CALLS

RESULTS = Path(__file__).resolve().parent / "results"
CAPS = [1, 1, 1, 2, 2, 2, 4, 4, None, None]


def changes(citizens: int, rng: random.Random) -> list[bytes]:
    zipf = [1 / (rank + 1) ** 0.8 for rank in range(len(SKILL_LABELS))]
    rng.shuffle(zipf)
    out = []
    for seq in range(1, citizens + 1):
        snap = synthetic(rng, zipf)
        snap["availability"]["max_invitations_per_month"] = rng.choice(CAPS)
        change = {"seq": seq, "citizen_id": snap["citizen_id"], "kind": "upsert",
                  "occurred_at": "2026-01-01T00:00:00Z", "snapshot": snap}  # fmt: skip
        out.append(json.dumps(change, separators=(",", ":")).encode())
    return out


async def run(args: argparse.Namespace, url: str, pid: int, rng: random.Random) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=3600) as client:
        started = time.perf_counter()
        while (await client.get("/v1/index/status")).json()["last_seq"] < args.citizens:
            await asyncio.sleep(0.2)
        emit(f"feed: {args.citizens} citizens in {time.perf_counter() - started:.1f} s")
        ids = []
        for number in range(args.calls):
            response = await client.post("/v1/calls", json=call_body(rng, number))
            response.raise_for_status()
            ids.append(response.json()["id"])
        started = time.perf_counter()
        response = await client.post(
            "/v1/routing-batches",
            json={
                "call_ids": ids,
                "requested_by": "bench",
                "time_limit_seconds": args.time_limit,
            },
        )
        wall = time.perf_counter() - started
        response.raise_for_status()
        batch = response.json()
        # The batch wrote each call's match rows: its panels are invitable by ref.
        first = batch["calls"][0]
        refs = [m["ref"] for m in first["panel"]]
        invited = await client.post(
            f"/v1/calls/{first['call_id']}/invitations",
            params={"public_body_id": str(BODY)},
            json={"refs": refs},
        )
        rss = peak_rss_mb(pid)
    gain = batch["total_score"] - batch["sequential_total_score"]
    emit("| batch (POST /v1/routing-batches) | value |")
    emit("|---|---|")
    for name, value in (
        ("calls x citizens", f"{args.calls} x {args.citizens}"),
        ("wall time (pipeline + both solves + storing)", f"{wall:.1f} s"),
        ("candidates (routing's pipeline, every call)", f"{batch['candidates_ms'] / 1000:.1f} s"),
        ("sequential baseline solve", f"{batch['sequential_ms'] / 1000:.2f} s"),
        ("batch solve", f"{batch['solve_ms'] / 1000:.2f} s ({batch['method']})"),
        (
            "total score batch / sequential",
            f"{batch['total_score']:.3f} / {batch['sequential_total_score']:.3f} ({gain:+.3f})",
        ),
        ("seats batch / sequential", f"{batch['seats']} / {batch['sequential_seats']}"),
        ("unmet quota seats batch / sequential", f"{batch['unmet']} / {batch['sequential_unmet']}"),
        ("cap violations", str(batch["cap_violations"])),
        ("first panel invited by ref", f"HTTP {invited.status_code}"),
        ("matcher peak RSS", f"{rss:.0f} MB"),
    ):
        emit(f"| {name} | {value} |")
    return {
        "calls": args.calls,
        "citizens": args.citizens,
        "wall_s": wall,
        "candidates_ms": batch["candidates_ms"],
        "sequential_ms": batch["sequential_ms"],
        "solve_ms": batch["solve_ms"],
        "method": batch["method"],
        "optimal": batch["optimal"],
        "total_score": batch["total_score"],
        "sequential_total_score": batch["sequential_total_score"],
        "seats": batch["seats"],
        "sequential_seats": batch["sequential_seats"],
        "unmet": batch["unmet"],
        "sequential_unmet": batch["sequential_unmet"],
        "cap_violations": batch["cap_violations"],
        "first_panel_invited_status": invited.status_code,
        "peak_rss_mb": rss,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--citizens", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--time-limit", type=float, default=25.0)
    parser.add_argument("--json-out", type=Path, default=RESULTS / "batch_routing.json")
    args = parser.parse_args()
    if not 1 <= args.calls <= MAX_BATCH_CALLS:
        parser.error(f"--calls must be 1..{MAX_BATCH_CALLS} (the API's limit per batch)")
    rng = random.Random(args.seed)
    feed = Feed(changes(args.citizens, rng))
    with (
        embedded_database() as (_, dsn),
        serve_feed(feed) as feed_url,
        matcher_process(dsn, feed_url) as (url, pid),
    ):
        results = asyncio.run(run(args, url, pid, rng))
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(results, indent=2))
    ok = (
        results["cap_violations"] == 0
        and results["total_score"] >= results["sequential_total_score"] - 1e-9
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
