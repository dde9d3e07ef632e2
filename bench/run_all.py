"""`make bench`: runs every benchmark in turn, then prints one table of the figures.

Each benchmark is its own script (runnable alone, `--help` says how) that prints its own
table and writes a JSON result to bench/results/<name>.json. Benchmarks are not tests: they
measure speed, memory and quality against the goals the issues name.
Run a subset with `make bench BENCH="routing goldstandard"` (names below).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"

# name -> (script, extra arguments). Every script accepts --json-out.
BENCHMARKS: dict[str, tuple[str, list[str]]] = {
    "goldstandard": ("goldstandard.py", []),
    # Skips with a message (how to fetch the data) when .data/stackexchange is absent.
    "cross_person": ("cross_person.py", []),
    "feed_apply": ("feed_apply.py", []),
    "index_threshold": ("index_threshold.py", []),
    "routing": ("routing.py", []),
    "gateway_routing": ("gateway_routing.py", []),
    "batch_routing": ("batch_routing.py", []),
    # Five consecutive 60 s runs, every one reported (a stall that comes once in a few
    # minutes must show); the pool micro-benchmark measures the stall's cause in CPU time.
    "load": ("load.py", ["--runs", "5", "--duration", "60"]),
    "downstream_pool": ("downstream_pool.py", []),
    # 100,000 citizens with the base snapshot built in-process (replaying 100,000 changes
    # through the feed takes an hour); kept so that the million run can tile it.
    "scale": ("scale.py", ["--build-snapshot", "--keep"]),
    "scale_million": ("scale_million.py", []),
    # Routing's retrieval rounds against every query searched deep, on the kept 100k run.
    "retrieval_rounds": ("retrieval_rounds.py", []),
    "embedding_backends": ("embedding_backends.py", []),
    "embedding_batches": ("embedding_batches.py", []),
    "web_pages": ("web_pages.py", []),
    "imports": ("imports.py", []),
}


# Benchmarks that add to another's result file (scale.json holds one run per size).
RESULT_FILES = {"scale_million": "scale.json"}


def result_file(name: str) -> str:
    return RESULT_FILES.get(name, f"{name}.json")


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, out)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for position, inner in enumerate(value):
            _flatten(f"{prefix}[{position}]", inner, out)
    else:
        out[prefix] = value


def main() -> int:
    wanted = os.environ.get("BENCH", "").split() or list(BENCHMARKS)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    timings: dict[str, float] = {}
    for name in wanted:
        if name not in BENCHMARKS:
            print(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")  # noqa: T201
            return 2
        script, extra = BENCHMARKS[name]
        path = BENCH_DIR / script
        if not path.exists():
            print(f"== {name}: {script} is not written yet; skipped")  # noqa: T201
            continue
        print(f"== {name}", flush=True)  # noqa: T201
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, str(path), *extra, "--json-out", str(RESULTS_DIR / result_file(name))],
            check=False,
        )
        timings[name] = time.monotonic() - started
        if result.returncode != 0:
            failures.append(name)
    print("\n== summary (bench/results/*.json)")  # noqa: T201
    print(f"{'benchmark':<18} {'figure':<58} value")  # noqa: T201
    for name in wanted:
        result_path = RESULTS_DIR / result_file(name)
        if not result_path.exists():
            continue
        flat: dict[str, Any] = {}
        _flatten("", json.loads(result_path.read_text()), flat)
        for key, value in flat.items():
            shown = f"{value:.4g}" if isinstance(value, float) else str(value)
            print(f"{name:<18} {key:<58} {shown}")  # noqa: T201
        if name in timings:
            print(f"{name:<18} {'(wall time, s)':<58} {timings[name]:.1f}")  # noqa: T201
    if failures:
        print(f"\nfailed: {', '.join(failures)}")  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
