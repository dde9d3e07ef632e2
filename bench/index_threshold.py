"""Exact (FAISS flat inner product) vs HNSW on this machine: where should the switch be?

Prints single-query and batched latency of exact search over N x 384 unit vectors, and
HNSW build time, latency and recall@10 against exact at one size. The matcher's
exact_search_max_items is chosen from these numbers (see config.py).

    .venv/bin/python bench/index_threshold.py [--sizes 50000,100000,200000,400000] [--hnsw 50000]

Writes the figures to --json-out (default bench/results/index_threshold.json).
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from convene_matcher.index.evidence_index import EvidenceIndex, IndexParams

DIM = 384
RESULTS = Path(__file__).resolve().parent / "results"


def emit(line: str) -> None:
    print(line)  # noqa: T201


def unit(rows: int, seed: int) -> np.ndarray:
    # Correlated vectors (a shared component), like sentence embeddings, not isotropic noise.
    rng = np.random.default_rng(seed)
    base = rng.standard_normal(DIM).astype(np.float32)
    vectors = rng.standard_normal((rows, DIM)).astype(np.float32) + 0.8 * base
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def latency_ms(index: EvidenceIndex, queries: np.ndarray, k: int) -> tuple[float, float]:
    started = time.perf_counter()
    for query in queries:
        index.search(query[None], k)
    single = (time.perf_counter() - started) / len(queries) * 1000
    started = time.perf_counter()
    index.search(queries, k)
    batched = (time.perf_counter() - started) / len(queries) * 1000
    return single, batched


def row(
    kind: str, size: int, build: float, single: float, batched: float, recall: float
) -> dict[str, Any]:
    return {
        "index": kind,
        "items": size,
        "build_s": round(build, 2),
        "ms_per_query_alone": round(single, 3),
        "ms_per_query_batched": round(batched, 3),
        "recall_at_10": round(recall, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50000,100000,200000,400000")
    parser.add_argument("--hnsw", type=int, default=50_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json-out", type=Path, default=RESULTS / "index_threshold.json")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    faiss.omp_set_num_threads(args.threads)
    queries = unit(50, seed=99)
    emit("| index | items | build s | ms/query alone | ms/query batched | recall@10 |")
    emit("|---|---|---|---|---|---|")
    for size in [int(s) for s in args.sizes.split(",")]:
        vectors = unit(size, seed=size)
        started = time.perf_counter()
        exact = EvidenceIndex.build(
            model_name="m", dimension=DIM, ids=np.arange(size, dtype=np.int64),
            vectors=vectors, params=IndexParams(exact_max_items=size),
        )  # fmt: skip
        build = time.perf_counter() - started
        single, batched = latency_ms(exact, queries, 100)
        emit(f"| exact | {size} | {build:.1f} | {single:.2f} | {batched:.2f} | 1.000 |")
        rows.append(row("exact", size, build, single, batched, 1.0))
        if size == args.hnsw:
            started = time.perf_counter()
            hnsw = EvidenceIndex.build(
                model_name="m", dimension=DIM, ids=np.arange(size, dtype=np.int64),
                vectors=vectors, params=IndexParams(exact_max_items=0),
            )  # fmt: skip
            build = time.perf_counter() - started
            single, batched = latency_ms(hnsw, queries, 100)
            _, truth = exact.search(queries, 10)
            _, approx = hnsw.search(queries, 10)
            recall = np.mean(
                [len(set(t) & set(a)) / 10 for t, a in zip(truth, approx, strict=True)]
            )
            emit(f"| hnsw  | {size} | {build:.1f} | {single:.2f} | {batched:.2f} | {recall:.3f} |")
            rows.append(row("hnsw", size, build, single, batched, float(recall)))
    result = {
        "benchmark": "index_threshold",
        "dimension": DIM,
        "threads": args.threads,
        "rows": rows,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
