"""Where the matcher's time goes at scale, in-process: snapshot load and routing stages.

    .venv/bin/python bench/scale_profile.py .run/bench-scale-<pid>/matcher-index --calls 20

Loads the committed snapshot of a matcher index folder (as made by bench/scale.py), timing
the index file and the store separately, then routes ``--calls`` fresh calls (bench/realistic
call texts, embedded by the real model, cached in .run/bench-cache/) through routing's
pipeline stages one by one, timing each (retrieval: HNSW search and exact scoring of the
texts it did not return; relevance with the lexical postings; filters; scores and
explanations' inputs; panel selection). CPU time of the process is reported beside wall time
(the machine is shared). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.realistic import vectors as realistic_vectors  # noqa: E402
from bench.realistic.generator import call_text  # noqa: E402
from convene_matcher.calls.schemas import CallRead  # noqa: E402
from convene_matcher.index.evidence_index import EvidenceIndex, IndexParams  # noqa: E402
from convene_matcher.index.snapshot import CURRENT, STORE_ARRAYS_FILE, STORE_FILE  # noqa: E402
from convene_matcher.panel import PanelCandidate, Quota, select_panel  # noqa: E402
from convene_matcher.routing import pipeline  # noqa: E402
from convene_matcher.routing.filters import apply_filters, call_filter  # noqa: E402
from convene_matcher.routing.frame import RouteRequest  # noqa: E402
from convene_matcher.routing.relevance import (  # noqa: E402
    fill_lexical_postings,
    score_relevance,
)
from convene_matcher.routing.retrieval import candidate_frame  # noqa: E402
from convene_matcher.routing.scores import pick, rank, rescore, score_frame  # noqa: E402
from convene_matcher.routing.service import _similarity  # noqa: E402
from convene_matcher.scoring import MatchingConfig  # noqa: E402


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load(folder: Path) -> tuple[EvidenceIndex, Any, dict[str, float]]:
    from convene_matcher.citizens.store import CitizenStore

    timings: dict[str, float] = {}
    wall, cpu = time.perf_counter(), cpu_s()
    # The snapshot's own model (its vectors were made by it; this bench embeds no evidence).
    model_name = json.loads((folder / "index.json").read_text())["model_name"]
    index = EvidenceIndex.load(folder, model_name=model_name, dimension=384, params=IndexParams())
    timings["index_wall_s"], timings["index_cpu_s"] = time.perf_counter() - wall, cpu_s() - cpu
    wall, cpu = time.perf_counter(), cpu_s()
    meta = json.loads((folder / STORE_FILE).read_text())
    with np.load(folder / STORE_ARRAYS_FILE) as arrays:
        store = CitizenStore.from_columns(meta, {name: arrays[name] for name in arrays.files})
    timings["store_wall_s"], timings["store_cpu_s"] = time.perf_counter() - wall, cpu_s() - cpu
    return index, store, {k: round(v, 2) for k, v in timings.items()}


def call_of(number: int, *, seed: int) -> CallRead:
    title, description, skills = call_text(number, seed=seed)
    now = datetime.now(UTC)
    return CallRead.model_validate(
        {
            "id": uuid.uuid4(), "public_body_id": uuid.uuid4(),
            "public_body_name": "Scale Bench Council", "title": title,
            "description": description, "questions": [],
            "skills": [{"label": label} for label in skills], "perspectives": [],
            "place": None, "languages": [], "access_offered": [], "hours": None,
            "deadline": now + timedelta(days=30), "panel_size": 8, "conflicts": [],
            "confidentiality": "public", "status": "open", "created_at": now,
        }
    )  # fmt: skip


def route_stages(store: Any, request: RouteRequest) -> dict[str, float]:
    """pipeline.route's stages, each timed (same calls, same order)."""
    times: dict[str, float] = {}

    def timed(name: str, work: Any) -> Any:
        began = time.perf_counter()
        value = work()
        times[name] = times.get(name, 0.0) + (time.perf_counter() - began) * 1000
        return value

    with store.lock.read():
        frame = timed("retrieval", lambda: candidate_frame(store, request))
        timed("relevance", lambda: score_relevance(store, frame, request))
        timed(
            "filters",
            lambda: apply_filters(store, frame, request.call_filter, request.invitations),
        )
        timed("scores", lambda: score_frame(store, frame, request))
        selected, _ = timed("pick", lambda: pick(frame, request))
        ranked = timed(
            "rescore_rank", lambda: rank(rescore(store, frame, request, selected), request)
        )
    pool = timed("panel_pool", lambda: pipeline.panel_pool(ranked, request))
    call, config = request.call, request.config
    timed(
        "panel",
        lambda: select_panel(
            [PanelCandidate(s.citizen_id, s.score, frozenset(s.roles), s.affiliations)
             for s in pool],
            quotas=[Quota(p.role, p.min, p.max) for p in call.perspectives],
            panel_size=call.panel_size,
            max_affiliation_share=config.max_affiliation_share,
            time_limit_seconds=config.panel_solver_time_limit_seconds,
        ),
    )  # fmt: skip
    times["retrieved"] = frame.retrieved
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("index_dir", type=Path)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--fill-lexical", action="store_true",
        help="run fill_lexical_postings before routing (as the matcher does after start-up) "
        "and time it; a snapshot saved with postings needs none",
    )  # fmt: skip
    args = parser.parse_args()
    folder = args.index_dir / (args.index_dir / CURRENT).read_text().strip()
    index, store, load_timings = load(folder)
    config = MatchingConfig()
    fill: dict[str, float] | None = None
    if args.fill_lexical:
        wall, cpu = time.perf_counter(), cpu_s()
        texts_seen = fill_lexical_postings(store, config=config)
        fill = {"texts": texts_seen, "wall_s": round(time.perf_counter() - wall, 1),
                "cpu_s": round(cpu_s() - cpu, 1)}  # fmt: skip
    calls = [call_of(1000 + n, seed=args.seed) for n in range(args.calls)]
    texts = [pipeline.query_texts(call, config=config) for call in calls]
    flat = [text for call_texts in texts for text in call_texts]
    vectors = realistic_vectors.cached_embeddings(
        lambda: realistic_vectors.load_model(1), flat, name="profile-calls"
    )
    now = datetime.now(UTC)
    per_call: list[dict[str, float]] = []
    offset = 0
    wall, cpu = time.perf_counter(), cpu_s()
    for call, call_texts in zip(calls, texts, strict=True):
        queries = vectors[offset : offset + len(call_texts)]
        offset += len(call_texts)
        request = RouteRequest(
            call=call, call_filter=call_filter(call, now=now),
            similarity=_similarity(index, queries), config=config, salt=f"call:{call.id}",
            query_text=call_texts[0],
        )  # fmt: skip
        began = time.perf_counter()
        stages = route_stages(store, request)
        stages["total"] = (time.perf_counter() - began) * 1000
        per_call.append(stages)
    wall, cpu = time.perf_counter() - wall, cpu_s() - cpu
    summary = {
        name: {
            "p50_ms": round(float(np.median([c[name] for c in per_call])), 1),
            "mean_ms": round(float(np.mean([c[name] for c in per_call])), 1),
        }
        for name in per_call[0]
    }
    print(  # noqa: T201
        json.dumps(
            {
                "index": {"kind": index.kind, "items": index.count},
                "citizens": len(store),
                "load": load_timings,
                "lexical_fill": fill,
                "routing_stages": summary,
                "routing_cpu_ms_per_call": round(cpu / len(calls) * 1000, 1),
                "routing_wall_ms_per_call": round(wall / len(calls) * 1000, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "loadavg": [round(x, 2) for x in os.getloadavg()],
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
