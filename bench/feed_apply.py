"""How fast the matcher applies profile changes when their texts are already cached.

Goal: >= 500 changes/s (bookkeeping must never be the bottleneck; embedding new texts is).
Builds contract-shaped change pages (docs/internal-api.md) for synthetic citizens whose
skills, roles and badges come from a fixed vocabulary, warms the embedding cache with that
vocabulary (the real model), then times EvidenceService.apply_changes page by page
(pydantic parsing of the page included) for: new citizens, updates that change one skill,
attribute-only updates, erasures. Prints one table line per phase.

    .venv/bin/python bench/feed_apply.py [--citizens 20000] [--page 500] [--json-out PATH]

Writes the figures to --json-out (default bench/results/feed_apply.json).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from convene_matcher.citizens.schemas import Change
from convene_matcher.config import MatcherSettings
from convene_matcher.embedding import Embedder, load_sentence_transformer
from convene_matcher.index.evidence_index import IndexParams
from convene_matcher.index.service import EvidenceService

RESULTS = Path(__file__).resolve().parent / "results"
GOAL_CHANGES_PER_S = 500


def emit(line: str) -> None:
    print(line)  # noqa: T201


LEVELS = ["want_to_learn", "can_explain", "can_connect", "can_do"]


def vocabulary(size: int) -> list[str]:
    topics = [
        "transport",
        "housing",
        "health",
        "schools",
        "flooding",
        "energy",
        "policing",
        "libraries",
        "parks",
        "planning",
        "social care",
        "air quality",
        "budgets",
    ]
    crafts = [
        "engineering",
        "advocacy",
        "research",
        "law",
        "nursing",
        "teaching",
        "design",
        "statistics",
        "organising",
        "mediation",
        "accounting",
        "volunteering",
    ]
    labels = [f"{t} {c}" for t in topics for c in crafts]
    return labels[:size]


def snapshot(citizen_id: str, labels: list[str], rng: random.Random) -> dict[str, Any]:
    return {
        "citizen_id": citizen_id,
        "consent": {"matching": True, "contact": rng.random() < 0.5},
        "availability": {"max_invitations_per_month": 4, "hours_per_month": 6, "unavailable": []},
        "place": {
            "authority_code": "E0900000" + str(rng.randint(1, 9)),
            "postcode_area": "N",
            "lat": 51.5,
            "lon": -0.1,
        },
        "languages": ["en"],
        "access_needs": [],
        "skills": [
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_OID, f"{citizen_id}/{label}")),
                "label": label,
                "level": rng.choice(LEVELS),
                "code": None,
            }
            for label in labels
        ],
        "roles": [
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_OID, citizen_id + "/role")),
                "role": "cyclist",
                "label": "Cyclist",
                "curated": True,
            }
        ],
        "badges": [],
        "affiliations": [],
        "contributions": [],
        "rating": {"score": None, "count": 0},
    }


async def run(citizens: int, page: int) -> dict[str, Any]:
    settings = MatcherSettings()
    model = load_sentence_transformer(settings.model_path, torch_threads=settings.torch_threads)
    embedder = Embedder(model=model, model_name=settings.model_name)
    vocab = vocabulary(150)
    await embedder.embed([*vocab, "Cyclist"])  # warm the cache: the goal is bookkeeping speed
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as index_dir:
        evidence = EvidenceService(
            embedder=embedder, pool=None, index_dir=Path(index_dir), params=IndexParams()
        )
        ids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(citizens)]
        skills = {cid: rng.sample(vocab, 5) for cid in ids}
        seq = 0

        def changes(kind: str, subset: list[str]) -> list[dict[str, Any]]:
            nonlocal seq
            out = []
            for cid in subset:
                seq += 1
                body = None if kind == "erase" else snapshot(cid, skills[cid], rng)
                out.append(
                    {
                        "seq": seq,
                        "citizen_id": cid,
                        "kind": kind,
                        "occurred_at": "2026-01-01T00:00:00Z",
                        "snapshot": body,
                    }
                )
            return out

        phases: list[dict[str, Any]] = []

        async def timed(name: str, raw: list[dict[str, Any]]) -> None:
            started = time.perf_counter()
            for start in range(0, len(raw), page):
                batch = [Change.model_validate(c) for c in raw[start : start + page]]
                await evidence.apply_changes(batch)
            elapsed = time.perf_counter() - started
            phases.append(
                {
                    "phase": name,
                    "changes": len(raw),
                    "changes_per_s": round(len(raw) / elapsed),
                    "index_items": evidence.index.count,
                    "index_kind": evidence.index.kind,
                }
            )
            emit(
                f"| {name:<28} | {len(raw):>7} | {len(raw) / elapsed:>10.0f} | "
                f"{evidence.index.count:>8} | {evidence.index.kind:>5} |"
            )

        emit("| phase                        | changes |  changes/s |    items | index |")
        emit("|---|---|---|---|---|")
        await timed("new citizens (5 skills+role)", changes("upsert", ids))
        for cid in ids:
            skills[cid] = [*skills[cid][1:], rng.choice(vocab)]
        await timed("one skill changed", changes("upsert", ids))
        await timed("attributes only", changes("upsert", ids))
        await timed("erasures", changes("erase", ids[: citizens // 10]))
        encoded = embedder.texts_encoded - len(vocab) - 1
        emit(f"texts that reached the model while applying: {encoded}")
    return {
        "benchmark": "feed_apply",
        "citizens": citizens,
        "page": page,
        "phases": phases,
        "texts_encoded_while_applying": encoded,
        "goal_changes_per_s": GOAL_CHANGES_PER_S,
        "goal_met": all(p["changes_per_s"] >= GOAL_CHANGES_PER_S for p in phases),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=20_000)
    parser.add_argument("--page", type=int, default=500)
    parser.add_argument("--json-out", type=Path, default=RESULTS / "feed_apply.json")
    args = parser.parse_args()
    result = asyncio.run(run(args.citizens, args.page))
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
