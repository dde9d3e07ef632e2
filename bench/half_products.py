"""Exact scoring of float16 rows: numpy's conversion against ONNX Runtime's (half_products).

    .venv/bin/python bench/half_products.py [--index <kept run>/matcher-index] [--rows 27000]

Routing scores the texts an HNSW search did not return exactly: about 27,000 rows a call at
100,000 citizens (bench/scale.py). This gathers that many random rows of a float16 table
(the kept run's own index storage with ``--index``, else 1,155,343 random unit rows), and
times CPU per call of numpy (gather, astype float32, einsum: the code before half_products)
and of half_products, with the largest difference between them. Prints one JSON object and
writes bench/results/half_products.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from convene_matcher.index.half_products import half_products  # noqa: E402


def kept_table(index_dir: Path) -> Any:
    import faiss

    folder = index_dir / (index_dir / "CURRENT").read_text().strip()
    index: Any = faiss.read_index(str(folder / "index.faiss"))
    storage: Any = faiss.downcast_index(faiss.downcast_index(index.index).storage)
    total, dimension = int(storage.ntotal), int(storage.d)
    codes = faiss.rev_swig_ptr(storage.codes.data(), total * dimension * 2)
    return index, codes.view(np.float16).reshape(total, dimension)


def random_table(rows: int, dimension: int = 384) -> Any:
    rng = np.random.default_rng(1)
    table = np.empty((rows, dimension), dtype=np.float16)
    for start in range(0, rows, 100_000):
        block = rng.standard_normal((min(100_000, rows - start), dimension)).astype(np.float32)
        table[start : start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return None, table


def cpu_ms(work: Any, repeats: int) -> float:
    work()
    began = time.process_time()
    for _ in range(repeats):
        work()
    return (time.process_time() - began) / repeats * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--index", type=Path)
    parser.add_argument("--rows", type=int, default=27_000)
    parser.add_argument("--queries", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--json-out", type=Path, default=REPO / "bench/results/half_products.json")
    args = parser.parse_args()
    _keep, table = kept_table(args.index) if args.index else random_table(1_155_343)
    rng = np.random.default_rng(2)
    positions = np.sort(rng.choice(len(table), args.rows, replace=False)).astype(np.int64)
    queries = rng.standard_normal((args.queries, table.shape[1])).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)

    def with_numpy() -> Any:
        return np.einsum("nd,qd->qn", table[positions].astype(np.float32), queries)

    result = {
        "table_rows": len(table),
        "rows_scored": args.rows,
        "queries": args.queries,
        "numpy_cpu_ms": round(cpu_ms(with_numpy, args.repeats), 2),
        "half_products_cpu_ms": round(
            cpu_ms(lambda: half_products(table, positions, queries), args.repeats), 2
        ),
        "max_abs_difference": float(
            np.abs(half_products(table, positions, queries) - with_numpy()).max()
        ),
        "source": str(args.index) if args.index else "random unit rows",
    }
    print(json.dumps(result, indent=1))  # noqa: T201
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
