"""Exact (FAISS flat inner product) vs HNSW on this machine: where should the switch be?

Prints single-query and batched latency of exact search over N x 384 unit vectors, and
HNSW build time, latency and recall@10 against exact at one size. The matcher's
exact_search_max_items is chosen from these numbers (see config.py).

    .venv/bin/python bench/index_threshold.py [--sizes 50000,100000,200000,400000] [--hnsw 50000]

With ``--realistic CITIZENS`` it measures instead on the product's own kind of vectors: the
distinct evidence texts of CITIZENS realistic citizens (bench/realistic: a real sample
embedded by the model, perturbed copies for the rest) searched by real call embeddings, and
sweeps HNSW M / efConstruction / efSearch for recall@100 against exact search (the figure
the matcher's HNSW settings are chosen from):

    nice -n 10 .venv/bin/python bench/index_threshold.py --realistic 20000 \
        --configs 16:40,32:64 --ef 256,512,1024,2048

Writes the figures to --json-out (default bench/results/index_threshold.json).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from convene_matcher.index.evidence_index import EvidenceIndex, IndexParams

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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


def recall_at(truth: np.ndarray, approx: np.ndarray) -> float:
    k = truth.shape[1]
    return float(np.mean([len(set(t) & set(a)) / k for t, a in zip(truth, approx, strict=True)]))


def realistic(args: argparse.Namespace) -> dict[str, Any]:
    from bench.realistic.vectors import population

    data = population(citizens=args.realistic, seed=args.seed)
    vectors, queries = data["vectors"], data["call_vectors"][: args.queries]
    size = len(vectors)
    ids = np.arange(size, dtype=np.int64)
    emit(f"{args.realistic:,} citizens, {size:,} distinct texts, {len(queries)} real calls")
    emit(f"similarity to calls, real texts:      {data['similarity_real']}")
    emit(f"similarity to calls, perturbed texts: {data['similarity_perturbed']}")
    exact = EvidenceIndex.build(
        model_name="m", dimension=DIM, ids=ids, vectors=vectors,
        params=IndexParams(exact_max_items=size),
    )  # fmt: skip
    started = time.perf_counter()
    _, truth = exact.search(queries, 100)
    exact_ms = (time.perf_counter() - started) / len(queries) * 1000
    single, _ = latency_ms(exact, queries[:20], 100)
    rows: list[dict[str, Any]] = [
        {"index": "exact", "items": size, "recall_at_100": 1.0,
         "ms_per_query_alone": round(single, 2), "ms_per_query_batched": round(exact_ms, 2)}
    ]  # fmt: skip
    emit("| index | M | efConstruction | build s | efSearch | ms/query alone | recall@100 |")
    emit("|---|---|---|---|---|---|---|")
    emit(f"| exact | | | | | {single:.1f} | 1.000 |")
    for config in args.configs.split(","):
        m, ef_construction = (int(part) for part in config.split(":"))
        started = time.perf_counter()
        hnsw = EvidenceIndex.build(
            model_name="m", dimension=DIM, ids=ids, vectors=vectors,
            params=IndexParams(exact_max_items=0, hnsw_m=m, hnsw_ef_construction=ef_construction),
        )  # fmt: skip
        build = time.perf_counter() - started
        for ef in [int(e) for e in args.ef.split(",")]:
            hnsw.params = IndexParams(
                exact_max_items=0, hnsw_m=m, hnsw_ef_construction=ef_construction,
                hnsw_ef_search=ef,
            )  # fmt: skip
            single, _ = latency_ms(hnsw, queries[:40], 256)
            _, approx = hnsw.search(queries, 100)
            recall = recall_at(truth, approx)
            emit(
                f"| hnsw | {m} | {ef_construction} | {build:.0f} | {ef} | {single:.1f} "
                f"| {recall:.3f} |"
            )
            rows.append({
                "index": "hnsw", "items": size, "m": m, "ef_construction": ef_construction,
                "build_s": round(build, 1), "ef_search": ef,
                "ms_per_query_alone_k256": round(single, 2),
                "recall_at_100": round(recall, 4),
            })  # fmt: skip
        del hnsw
    return {
        "benchmark": "index_threshold",
        "mode": "realistic",
        "citizens": args.realistic,
        "distinct_texts": size,
        "calls": len(queries),
        "similarity_real": data["similarity_real"],
        "similarity_perturbed": data["similarity_perturbed"],
        "perturbation": data["perturbation"],
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50000,100000,200000,400000")
    parser.add_argument("--hnsw", type=int, default=50_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json-out", type=Path, default=RESULTS / "index_threshold.json")
    parser.add_argument("--realistic", type=int, default=0, help="citizens (0: synthetic mode)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--configs", default="16:40,32:64", help="HNSW M:efConstruction,...")
    parser.add_argument("--ef", default="256,512,1024,2048")
    args = parser.parse_args()
    if args.realistic:
        faiss.omp_set_num_threads(args.threads)
        result = realistic(args)
        result.update(
            threads=args.threads,
            loadavg=[round(x, 2) for x in os.getloadavg()],
            measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(result, indent=2) + "\n")
        return
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
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
