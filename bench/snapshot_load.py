"""Where a matcher's start-up time and memory go: its snapshot loaded step by step.

    .venv/bin/python bench/snapshot_load.py .run/bench-scale-<pid>/matcher-index

Loads the committed snapshot of a matcher index folder (as bench/scale.py --keep leaves it)
the way the matcher does (EvidenceIndex.load, store.json, then CitizenStore.from_columns
reading store.npz column by column) in a fresh process, and prints the wall time and the
resident memory (VmRSS, and the peak VmHWM) after each step, then the store's parts by size.
Writes bench/results/snapshot_load.json. The model (about 0.4 GB with torch) is not loaded
here.

    .venv/bin/python bench/snapshot_load.py <index folder> --save .run

then also saves the loaded snapshot as the matcher does (capture_snapshot, write_snapshot)
into a temporary folder under .run (removed afterwards) and reports the save's own peak: the
peak is reset (/proc/self/clear_refs) after loading, so it is measured over what the loaded
process holds.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from convene_matcher.citizens.store import CitizenStore  # noqa: E402
from convene_matcher.index.evidence_index import EvidenceIndex  # noqa: E402
from convene_matcher.index.snapshot import (  # noqa: E402
    CURRENT,
    STORE_ARRAYS_FILE,
    STORE_FILE,
    capture_snapshot,
    write_snapshot,
)


def memory_mb() -> dict[str, float]:
    found = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = round(int(value.split()[0]) / 1024, 1)
    return found


def reset_peak() -> None:
    """VmHWM starts again from VmRSS (Linux 4.0+), so a later step's own peak shows."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
        clear_refs.write("5")


def emit(line: str) -> None:
    print(line, flush=True)  # noqa: T201


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("index_dir", type=Path)
    parser.add_argument(
        "--json-out", type=Path, default=REPO / "bench" / "results" / "snapshot_load.json"
    )
    parser.add_argument(
        "--save",
        type=Path,
        metavar="DIR",
        help="also save the snapshot into a temporary folder in DIR",
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
        store = CitizenStore.from_columns(meta, saved)
    step(f"store.npz + from_columns (format {meta['format']})", started)
    with zipfile.ZipFile(folder / STORE_ARRAYS_FILE) as archive:  # column sizes, as stored
        array_bytes = {
            info.filename.removesuffix(".npy"): info.file_size for info in archive.infolist()
        }
    del meta
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
    load_steps = list(steps)
    save: dict[str, Any] | None = None
    if args.save is not None:
        save = measure_save(args.save, index=index, store=store, steps=steps, step=step)
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
        "load_s": round(sum(s["s"] for s in load_steps), 2),
        "peak_rss_mb": load_steps[-1]["VmHWM"],
        "rss_after_load_mb": load_steps[-1]["VmRSS"],
        "save": save,
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


def measure_save(
    parent: Path,
    *,
    index: EvidenceIndex,
    store: CitizenStore,
    steps: list[dict[str, Any]],
    step: Callable[[str, float], None],
) -> dict[str, Any]:
    """Saves the loaded snapshot as the matcher does; the peak over the loaded process."""
    parent.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(prefix="snapshot-save-", dir=parent))
    try:
        gc.collect()
        reset_peak()
        baseline = memory_mb()["VmRSS"]
        started = time.monotonic()
        captured = capture_snapshot(target, index=index, store=store)
        step("save: capture_snapshot", started)
        started = time.monotonic()
        path = write_snapshot(target, captured)
        step("save: write_snapshot", started)
        del captured
        written_mb = round(sum(f.stat().st_size for f in path.iterdir()) / 2**20, 1)
    finally:
        shutil.rmtree(target, ignore_errors=True)
    return {
        "rss_before_mb": baseline,
        "peak_rss_mb": steps[-1]["VmHWM"],
        "peak_over_loaded_mb": round(steps[-1]["VmHWM"] - baseline, 1),
        "capture_s": steps[-2]["s"],
        "write_s": steps[-1]["s"],
        "written_mb": written_mb,
    }


if __name__ == "__main__":
    raise SystemExit(main())
