"""Retrieval through the HNSW index in rounds against every query searched deep.

    .venv/bin/python bench/retrieval_rounds.py [<kept run>/matcher-index] [--calls 60]

(default: the matcher index of the run bench/results/scale.json names as kept)

On a kept bench/scale.py run's index and store (100,000 citizens, 1,155,343 texts), fresh
bench calls (bench/realistic call texts and skill labels, embedded by the real model and
cached in .run/bench-cache/) are retrieved three ways: exact (every text scored: the truth),
every query searched deep (the call text at hnsw_ef_search, each label at k = the depth:
routing before retrieval rounds), and routing's rounds (``retrieval.searched_texts``).
Reports the retrieved texts' recall against exact retrieval, index CPU and wall ms per call,
and how many queries the rounds searched again. Prints one JSON object and writes
bench/results/retrieval_rounds.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import scale_profile  # noqa: E402

from bench.realistic import vectors as realistic_vectors  # noqa: E402
from convene_matcher.routing import pipeline  # noqa: E402
from convene_matcher.routing.retrieval import (  # noqa: E402
    FIRST_SEARCH,
    best_by_text,
    retrieve,
    searched_texts,
    text_similarities,
)
from convene_matcher.routing.service import _similarity  # noqa: E402
from convene_matcher.scoring import MatchingConfig  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("index_dir", type=Path, nargs="?")
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--json-out", type=Path, default=REPO / "bench" / "results" / "retrieval_rounds.json"
    )
    args = parser.parse_args()
    if args.index_dir is None:
        scale = REPO / "bench" / "results" / "scale.json"
        runs = json.loads(scale.read_text())["runs"] if scale.exists() else []
        kept = [REPO / r["kept_run_dir"] for r in runs if r.get("kept_run_dir")]
        if not kept or not kept[-1].exists():
            print("no kept run: run bench/scale.py --citizens 100000 --build-snapshot --keep")  # noqa: T201
            raise SystemExit(2)
        args.index_dir = kept[-1] / "matcher-index"
    folder = args.index_dir / (args.index_dir / "CURRENT").read_text().strip()
    index, store, _ = scale_profile.load(folder)
    config = MatchingConfig()
    depth, size = config.retrieval_depth, store.next_text_id
    deep_k = max(FIRST_SEARCH, min(depth, store.text_count))
    calls = [scale_profile.call_of(1000 + n, seed=args.seed) for n in range(args.calls)]
    texts = [pipeline.query_texts(call, config=config) for call in calls]
    flat = [text for call_texts in texts for text in call_texts]
    vectors = realistic_vectors.cached_embeddings(
        lambda: realistic_vectors.load_model(1), flat, name="profile-calls"
    )
    rows: list[dict[str, float]] = []
    offset = 0
    for call_texts in texts:
        queries = vectors[offset : offset + len(call_texts)]
        offset += len(call_texts)
        similarity = _similarity(index, queries)
        found, scores = index.exact_scores(queries)
        _, ordered = text_similarities(found, scores.max(axis=0), size)
        exact = set(retrieve(store, ordered, depth)[0])

        def every_query_deep(similarity: Any = similarity, n: int = len(call_texts)) -> list[int]:
            results = similarity.search_queries([deep_k] * n, [True] * n)
            _, ordered = text_similarities(*best_by_text(results), size)
            return retrieve(store, ordered, depth)[0]

        searched: list[int] = []
        inner = similarity.search_queries

        def counted(ks: Any, deep: Any, inner: Any = inner, searched: Any = searched) -> Any:
            searched.append(sum(1 for k in ks if k))
            return inner(ks, deep)

        rounds_similarity = type(similarity)(
            all_text_scores=None,
            search_queries=counted,
            score_texts=similarity.score_texts,
            first_k=similarity.first_k,
        )
        row: dict[str, float] = {"queries": len(call_texts)}
        for name, work in (
            ("deep", every_query_deep),
            ("rounds", lambda s=rounds_similarity: searched_texts(store, s, depth)[1]),
        ):
            wall, cpu = time.perf_counter(), time.process_time()
            chosen = set(work())
            row[f"{name}_wall_ms"] = (time.perf_counter() - wall) * 1000
            row[f"{name}_cpu_ms"] = (time.process_time() - cpu) * 1000
            row[f"{name}_recall"] = len(chosen & exact) / max(len(exact), 1)
        row["rounds"] = len(searched)
        row["searched_again"] = sum(searched[1:])
        rows.append(row)

    def mean(key: str) -> float:
        return round(float(np.mean([r[key] for r in rows])), 4)

    def p50(key: str) -> float:
        return round(float(np.median([r[key] for r in rows])), 2)

    result = {
        "calls": len(rows),
        "queries": int(sum(r["queries"] for r in rows)),
        "index": {"kind": index.kind, "items": index.count, "params": vars(index.params)},
        "every_query_deep": {
            "recall_vs_exact": mean("deep_recall"),
            "cpu_ms_per_call": mean("deep_cpu_ms"),
            "wall_ms_p50": p50("deep_wall_ms"),
        },
        "rounds": {
            "recall_vs_exact": mean("rounds_recall"),
            "cpu_ms_per_call": mean("rounds_cpu_ms"),
            "wall_ms_p50": p50("rounds_wall_ms"),
            "queries_searched_again": int(sum(r["searched_again"] for r in rows)),
            "calls_with_a_second_round": int(sum(1 for r in rows if r["rounds"] > 1)),
        },
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result, indent=1))  # noqa: T201
    args.json_out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
