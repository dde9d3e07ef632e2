"""recall@100 of a matcher's own HNSW index against exact search, by efSearch, with its cost.

    .venv/bin/python bench/index_recall.py .run/bench-scale-<pid>/matcher-index --ef 256 1024 4096

Loads the committed snapshot's index of a matcher index folder (as bench/scale.py --keep
leaves it), takes the real call vectors bench/scale.py routed with (bench/realistic, cached
in .run/bench-cache/), finds each call's exact top 100 over every live vector, then searches
the index at each efSearch on one thread: recall@100 and CPU ms per query. Writes
bench/results/index_recall.json. This is how the shipped efSearch was weighed against the
0.98 goal at a million texts.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.realistic.vectors import cached_embeddings, call_queries, load_model  # noqa: E402
from bench.scale import exact_top_k, exact_top_k_of, recall_at  # noqa: E402
from convene_matcher.index.evidence_index import EvidenceIndex, IndexParams  # noqa: E402
from convene_matcher.index.snapshot import CURRENT  # noqa: E402

K = 100


def emit(line: str) -> None:
    print(line, flush=True)  # noqa: T201


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("index_dir", type=Path)
    parser.add_argument("--ef", type=int, nargs="+", default=[256, 512, 1024, 2048, 4096])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--rebuild", nargs="+", choices=["fp32", "fp16"], default=[])
    parser.add_argument("--sample", type=int, default=0, help="vectors to rebuild over (0: all)")
    parser.add_argument(
        "--json-out", type=Path, default=REPO / "bench" / "results" / "index_recall.json"
    )
    args = parser.parse_args()
    folder = args.index_dir / (args.index_dir / CURRENT).read_text().strip()
    meta = json.loads((folder / "index.json").read_text())
    index = EvidenceIndex.load(folder, model_name=meta["model_name"], dimension=meta["dimension"])
    if index.kind != "hnsw":
        print(f"the index is {index.kind}: nothing approximate to measure")  # noqa: T201
        return 2
    calls = cached_embeddings(
        lambda: load_model(1), call_queries(args.seed, args.calls), name="calls"
    )
    indexes: list[tuple[str, EvidenceIndex, dict[str, Any]]] = []
    if args.rebuild:
        ids, vectors = index.live_vectors()
        if args.sample:
            ids, vectors = ids[: args.sample], vectors[: args.sample]
        del index
        truth = exact_top_k_of(ids, vectors, calls, k=K)
        for storage in args.rebuild:
            faiss.omp_set_num_threads(2)
            params = IndexParams(exact_max_items=0, hnsw_storage=storage)
            started = time.monotonic()
            built = EvidenceIndex.build(
                model_name=meta["model_name"],
                dimension=meta["dimension"],
                ids=ids,
                vectors=vectors,
                params=params,
            )
            facts = {
                "build_s": round(time.monotonic() - started, 1),
                # FAISS's own serialisation (what a snapshot's index.faiss holds).
                "index_mb": round(len(faiss.serialize_index(built._index)) / 2**20, 1),
            }
            emit(f"{storage}: built over {len(ids):,} vectors in {facts['build_s']} s")
            emit(f"{storage}: {facts['index_mb']} MB serialised")
            indexes.append((storage, built, facts))
    else:
        indexes.append((index.storage, index, {}))
        truth = exact_top_k(index, calls, k=K)
    faiss.omp_set_num_threads(1)  # the cost of one query on one core, as routing pays it
    rows: list[dict[str, Any]] = []
    for storage, measured, facts in indexes:
        searcher: Any = measured._index  # the FAISS index itself, searched as routing does
        for ef in args.ef:
            search_params: Any = faiss.SearchParametersHNSW()
            search_params.efSearch = ef
            started = time.process_time()
            _, found = searcher.search(calls, K, params=search_params)
            cpu_ms = (time.process_time() - started) / len(calls) * 1000
            recall = recall_at(truth, found)
            rows.append(
                {
                    "storage": storage,
                    "vectors": measured.count,
                    **facts,
                    "ef_search": ef,
                    "recall_at_100": round(recall, 4),
                    "cpu_ms_per_query": round(cpu_ms, 2),
                }
            )
            emit(f"{storage} efSearch {ef:>5}: recall@100 {recall:.4f}  {cpu_ms:.1f} ms CPU/query")
    index = indexes[0][1]
    result = {
        "benchmark": "index_recall",
        "index": {"kind": index.kind, "items": index.count, **meta.get("params", {})},
        "hnsw_m": index.params.hnsw_m,
        "hnsw_ef_construction": index.params.hnsw_ef_construction,
        "calls": len(calls),
        "rows": rows,
        "goal": "recall@100 >= 0.98",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
        ).stdout.strip(),
    }
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
