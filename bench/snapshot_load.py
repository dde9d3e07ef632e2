"""Where a matcher's start-up time and memory go: its snapshot loaded step by step.

    .venv/bin/python bench/snapshot_load.py .run/bench-scale-<pid>/matcher-index

Loads the committed snapshot of a matcher index folder (as bench/scale.py --keep leaves it)
the way the matcher does (EvidenceIndex.load, store.json, store.npz, CitizenStore.
from_columns) in a fresh process, and prints the wall time and the resident memory (VmRSS,
and the peak VmHWM) after each step, then the store's parts by size. Writes
bench/results/snapshot_load.json. The model (about 0.4 GB with torch) is not loaded here.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from convene_matcher.citizens.store import CitizenStore  # noqa: E402
from convene_matcher.index.evidence_index import EvidenceIndex  # noqa: E402
from convene_matcher.index.snapshot import CURRENT, STORE_ARRAYS_FILE, STORE_FILE  # noqa: E402


def memory_mb() -> dict[str, float]:
    found = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = round(int(value.split()[0]) / 1024, 1)
    return found


def emit(line: str) -> None:
    print(line, flush=True)  # noqa: T201


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("index_dir", type=Path)
    parser.add_argument(
        "--json-out", type=Path, default=REPO / "bench" / "results" / "snapshot_load.json"
    )
    args = parser.parse_args()
    folder = args.index_dir / (args.index_dir / CURRENT).read_text().strip()
    meta_index = json.loads((folder / "index.json").read_text())
    steps: list[dict[str, Any]] = []

    def step(name: str, started: float) -> None:
        steps.append({"step": name, "s": round(time.monotonic() - started, 2), **memory_mb()})
        emit(f"{name:<28} {steps[-1]['s']:>7.2f} s  RSS {steps[-1]['VmRSS']:>8.0f} MB  "
             f"peak {steps[-1]['VmHWM']:>8.0f} MB")  # fmt: skip

    started = time.monotonic()
    index = EvidenceIndex.load(
        folder, model_name=meta_index["model_name"], dimension=int(meta_index["dimension"])
    )
    step("index (faiss.read_index)", started)
    started = time.monotonic()
    with open(folder / STORE_FILE, encoding="utf-8") as handle:
        meta = json.load(handle)
    step("store.json", started)
    started = time.monotonic()
    with np.load(folder / STORE_ARRAYS_FILE) as saved:
        arrays = {name: saved[name] for name in saved.files}
    step("store.npz", started)
    started = time.monotonic()
    store = CitizenStore.from_columns(meta, arrays)
    step(f"CitizenStore.from_columns (format {meta['format']})", started)
    array_bytes = {name: int(column.nbytes) for name, column in arrays.items()}
    del meta, arrays
    gc.collect()
    started = time.monotonic()
    step("inputs freed", started)
    # What a full collection costs the matcher once the store is loaded (the pause every
    # request waits out when the collector's oldest generation comes due), and after
    # gc.freeze(), which the matcher calls after loading its snapshot.
    tracked = len(gc.get_objects())
    started = time.perf_counter()
    gc.collect()
    full_gc_s = round(time.perf_counter() - started, 3)
    gc.freeze()
    started = time.perf_counter()
    gc.collect()
    frozen_gc_s = round(time.perf_counter() - started, 3)
    emit(f"full GC: {tracked:,} tracked objects, {full_gc_s} s; after gc.freeze() {frozen_gc_s} s")
    bytes_per_value = 2 if index.storage == "fp16" else 4
    parts_mb = {
        "index file": round((folder / "index.faiss").stat().st_size / 2**20, 1),
        f"vectors (texts x 384 x {bytes_per_value} B, {index.storage})": round(
            index.count * 384 * bytes_per_value / 2**20, 1
        ),
        "store.json": round((folder / STORE_FILE).stat().st_size / 2**20, 1),
        "snapshots, compressed": round(array_bytes.get("snapshot_bytes", 0) / 2**20, 1),
        "lexical postings": round(
            sum(v for k, v in array_bytes.items() if k.startswith("postings")) / 2**20, 1
        ),
        "routing arrays": round(
            sum(v for k, v in array_bytes.items() if k.startswith("arrays_")) / 2**20, 1
        ),
    }
    for name, size in parts_mb.items():
        emit(f"  {name:<28} {size:>8.0f} MB")
    result = {
        "benchmark": "snapshot_load",
        "snapshot": str(folder),
        "citizens": len(store),
        "items": store.item_count,
        "texts": store.text_count,
        "index_kind": index.kind,
        "steps": steps,
        "load_s": round(sum(s["s"] for s in steps), 2),
        "peak_rss_mb": steps[-1]["VmHWM"],
        "rss_after_load_mb": steps[-1]["VmRSS"],
        "parts_mb": parts_mb,
        "gc_tracked_objects": tracked,
        "full_gc_pause_s": full_gc_s,
        "full_gc_pause_after_freeze_s": frozen_gc_s,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
        ).stdout.strip(),
        "note": "the matcher's process adds the model (~0.4 GB) and the runtime",
    }
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
