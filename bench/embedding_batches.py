"""Embedding batches cut by padded tokens: speed and the memory ONNX Runtime keeps.

    .venv/bin/python bench/embedding_batches.py [--texts 1500] [--budgets 1000000,2048,512]

Realistic experience descriptions (bench/realistic, 20-150 words, seeded), sorted by length
as the Embedder sorts them, are embedded by the ONNX backend (one thread) with each budget
of padded tokens per model call (at most 32 texts, as before; 1000000 means no budget, the
behaviour before DEFAULT_BATCH_TOKENS). Each budget runs in its own process, since ONNX
Runtime keeps its largest batch's working memory: texts/s, CPU ms per text, RSS kept and
peak growth, and the smallest cosine to the unbudgeted vectors. Prints a table and writes
bench/results/embedding_batches.json.
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


def _status_mb(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


def descriptions(count: int) -> list[str]:
    from bench.realistic.generator import generate_citizens

    texts = {e.description for c in generate_citizens(count=4000, seed=7) for e in c.experiences}
    return sorted(sorted(texts)[:count], key=len)


def measure_one(budget: int, count: int, vectors_out: Path) -> dict[str, Any]:
    from convene_matcher.config import MatcherSettings
    from convene_matcher.embedding.backends import load_model

    model, _ = load_model(
        model_path=MatcherSettings().model_path,
        backend="onnx",
        threads=1,
        onnx_dir=REPO / ".run" / "onnx",
    )
    texts = descriptions(count)
    model.encode(texts[:4], batch_size=32, batch_tokens=budget)  # first-call set-up
    rss_before = _status_mb("VmRSS")
    hwm_before = max(_status_mb("VmHWM"), rss_before)
    started, cpu_started = time.perf_counter(), time.process_time()
    vectors = model.encode(texts, batch_size=32, batch_tokens=budget, normalize_embeddings=True)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    np.save(vectors_out, vectors)
    return {
        "batch_tokens": budget,
        "texts": len(texts),
        "mean_words": round(sum(len(t.split()) for t in texts) / len(texts), 1),
        "texts_per_s": round(len(texts) / wall, 1),
        "cpu_ms_per_text": round(cpu / len(texts) * 1000, 2),
        "rss_kept_mb": round(_status_mb("VmRSS") - rss_before),
        "peak_growth_mb": round(_status_mb("VmHWM") - hwm_before),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=1500)
    parser.add_argument("--budgets", default="1000000,4096,2048,1024,512,256")
    parser.add_argument(
        "--json-out", type=Path, default=REPO / "bench" / "results" / "embedding_batches.json"
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--vectors", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure_one(args.one, args.texts, args.vectors)))  # noqa: T201
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    scratch = REPO / ".run" / "embedding-batches"
    scratch.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    reference: np.ndarray[Any, Any] | None = None
    for budget in (int(b) for b in args.budgets.split(",")):
        out = scratch / f"{budget}.npy"
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                str(budget),
                "--texts",
                str(args.texts),
                "--vectors",
                str(out),
            ],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        row = json.loads(done.stdout.strip().splitlines()[-1])
        vectors = np.load(out)
        if reference is None:
            reference = vectors
        row["min_cosine_to_first"] = round(float((vectors * reference).sum(axis=1).min()), 6)
        rows.append(row)
        print(  # noqa: T201
            f"{row['batch_tokens']:>8} tokens  {row['texts_per_s']:6.1f} texts/s  "
            f"{row['cpu_ms_per_text']:6.2f} ms CPU/text  kept +{row['rss_kept_mb']:4d} MB  "
            f"peak +{row['peak_growth_mb']:4d} MB  min cos {row['min_cosine_to_first']}",
            flush=True,
        )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    result = {
        "rows": rows,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "loadavg": list(os.getloadavg()),
    }
    args.json_out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
