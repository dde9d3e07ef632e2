"""Convene at 1,000,000 citizens: the 100,000 realistic citizens of bench/scale.py, ten times.

    .venv/bin/python bench/scale_million.py .run/bench-scale-<pid>     # a kept 100k run

What is generated, and why. bench/scale.py's generator gives each citizen 7-10 experience
descriptions of their own, so 1,000,000 citizens would hold about 11 million distinct texts:
16 GB of float32 vectors in the matcher (plus the HNSW graph), the same again in the
embedding cache, on a 24 GB machine, and hours of HNSW build on two cores. Building the
store citizen by citizen (as bench/scale.py --build-snapshot does) also holds every
generated person and the store in one process: about 20 GB at a million. So the million is
the kept 100,000-citizen snapshot (``bench/scale.py --build-snapshot --keep``) tiled ten
times: every citizen gets nine clones with new ids (uuid5 of the original), each holding the
same evidence, place, languages, roles and consent as the original. The distinct texts, the
index (the same HNSW graph routing searches) and the lexical postings are the 100k run's:
1.15 million texts, each held by ten times as many citizens. What this measures: everything
that grows with citizens (the store's memory and start-up, the candidate sets routing
filters, scores and picks from: ten times the retrieved citizens and role holders per
call); what it does not: a population whose texts grow with it (recall@100 is the 100k
index's, measured by that run) or feed apply at this size (not measured).

Steps: tile the snapshot's columns (format 5) into <run>/million/matcher-index; start the
kept PostgreSQL, profiles and the gateway, then the matcher on the tiled snapshot (start-up
timed to ready, peak RSS read from /proc); route fresh calls through the gateway at 1 and 4
clients (CPU of every process, PostgreSQL included). Appends the run to
bench/results/scale.json (``runs``, one per size).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.scale import (  # noqa: E402
    admin_headers,
    against_cpu_bound,
    bench_suite,
    bootstrap_admin,
    cpu_ticks,
    emit,
    index_status,
    loadavg,
    peak_rss_mb,
    postgres_pids,
    route_fresh_calls,
    stage_means,
    stage_times,
)
from convene_common.embedded_pg import EmbeddedPostgres  # noqa: E402
from convene_matcher.citizens.arrays import ITEM_COLUMNS, ROW_TABLES, SLOT_COLUMNS  # noqa: E402
from convene_matcher.index.snapshot import CURRENT, STORE_ARRAYS_FILE, STORE_FILE  # noqa: E402
from scripts.suite import Suite  # noqa: E402

ADMIN_EMAIL, ADMIN_PASSWORD = "admin@million.example", "million-bench-admin-password"


def clone_id(citizen_id: str, copy: int) -> str:
    return citizen_id if copy == 0 else str(uuid.uuid5(uuid.UUID(citizen_id), f"clone-{copy}"))


def tile_columns(
    meta: dict[str, Any], arrays: Mapping[str, Any], copies: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The store's columns (format 5) with every citizen ``copies`` times: clone c of the
    citizen in slot s sits in slot s + c * capacity and owns item ids + c * next_item_id."""
    if meta["format"] != 5:
        raise SystemExit(f"store format {meta['format']}: rerun bench/scale.py with this code")
    routing = meta["arrays"]
    capacity, item_rows = int(routing["capacity"]), int(routing["item_rows"])
    next_item = int(meta["next_item_id"])
    citizens = len(arrays["snapshot_lengths"])

    def tiled(name: str) -> Any:
        return np.concatenate([arrays[name]] * copies)

    def shifted(name: str, step: int, *, keep_negative: bool = False) -> Any:
        column = arrays[name]
        parts = []
        for copy in range(copies):
            part = column + copy * step
            if keep_negative:
                part[column < 0] = column[column < 0]
            parts.append(part)
        return np.concatenate(parts)

    out: dict[str, Any] = {}
    # Each clone's snapshot names its own citizen id.
    blob = arrays["snapshot_bytes"].tobytes()
    ends = np.cumsum(arrays["snapshot_lengths"]).tolist()
    starts = [0, *ends[:-1]]
    owners = [routing["slot_citizen"][slot] for slot in arrays["citizen_slot"].tolist()]
    packed: list[bytes] = []
    for copy in range(copies):
        for owner, start, end in zip(owners, starts, ends, strict=True):
            if copy == 0:
                packed.append(blob[start:end])
                continue
            raw = zlib.decompress(blob[start:end])
            packed.append(
                zlib.compress(raw.replace(owner.encode(), clone_id(owner, copy).encode()), 1)
            )
    out["snapshot_bytes"] = np.frombuffer(b"".join(packed), dtype=np.uint8)
    out["snapshot_lengths"] = np.fromiter((len(p) for p in packed), np.int64, len(packed))
    del packed, blob
    out["item_counts"] = tiled("item_counts")
    out["citizen_items"] = shifted("citizen_items", next_item)
    out["item_id"] = shifted("item_id", next_item)
    out["item_citizen"] = shifted("item_citizen", citizens)
    for name in ("item_kind", "item_text_id", "item_raw_text", "item_attributes"):
        out[name] = tiled(name)
    out["citizen_slot"] = shifted("citizen_slot", capacity)
    for name in SLOT_COLUMNS:
        key = f"arrays_{name}"
        out[key] = shifted(key, item_rows) if name == "item_start" else tiled(key)
    for name in ITEM_COLUMNS:
        out[f"arrays_{name}"] = tiled(f"arrays_{name}")
    for table in ROW_TABLES:
        out[f"arrays_{table}_slot"] = shifted(f"arrays_{table}_slot", capacity, keep_negative=True)
        out[f"arrays_{table}_value"] = tiled(f"arrays_{table}_value")
        out[f"arrays_{table}_flag"] = tiled(f"arrays_{table}_flag")
    out["arrays_free_slots"] = shifted("arrays_free_slots", capacity)
    out["source_id_bytes"] = tiled("source_id_bytes")
    out["source_id_lengths"] = tiled("source_id_lengths")
    for name, column in arrays.items():
        if name.startswith(("postings", "text_", "raw_text_")):
            out[name] = column  # per text: unchanged
    missing = set(arrays) - set(out)
    if missing:
        raise SystemExit(f"columns this tiling does not know: {sorted(missing)}")
    tiled_meta = {
        **meta,
        "next_item_id": next_item * copies,
        "arrays": {
            **routing,
            "capacity": capacity * copies,
            "item_rows": item_rows * copies,
            "dead_item_rows": int(routing["dead_item_rows"]) * copies,
            "slot_citizen": [
                None if citizen is None else clone_id(citizen, copy)
                for copy in range(copies)
                for citizen in routing["slot_citizen"]
            ],
            "unavailable": [
                [slot + copy * capacity, periods]
                for copy in range(copies)
                for slot, periods in routing["unavailable"]
            ],
            "access_needs": [
                [slot + copy * capacity, needs]
                for copy in range(copies)
                for slot, needs in routing["access_needs"]
            ],
        },
    }
    return tiled_meta, out


class PeakWatcher(threading.Thread):
    """Reads a process's peak RSS (VmHWM) every half second: the last value read survives
    the process, so a matcher killed while loading still reports how far it got."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_mb = 0.0
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(0.5):
            try:
                self.peak_mb = max(self.peak_mb, peak_rss_mb(self.pid))
            except (OSError, ValueError):
                return

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=5)


def not_measured(tiled: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """The run's fields when the matcher never served: every figure None."""
    return {
        "citizens": tiled["citizens"],
        "distinct_texts": tiled["distinct_texts"],
        "items": tiled["items"],
        "index_kind": None,
        "recall_at_100": None,
        "one_client": {"p50_ms": None, "p99_ms": None},
        "four_clients": {"p50_ms": None, "p99_ms": None, "throughput_per_s": None},
        "cpu_ms_per_call": None,
        "startup_s": None,
        "population": f"the 100,000-citizen run tiled x{args.copies}",
        "tiling": tiled,
    }


def tile_snapshot(source_dir: Path, target_dir: Path, copies: int) -> dict[str, Any]:
    folder = source_dir / (source_dir / CURRENT).read_text().strip()
    started = time.monotonic()
    with open(folder / STORE_FILE, encoding="utf-8") as handle:
        meta = json.load(handle)
    with np.load(folder / STORE_ARRAYS_FILE) as saved:
        arrays = {name: saved[name] for name in saved.files}
    tiled_meta, tiled_arrays = tile_columns(meta, arrays, copies)
    del meta, arrays
    name = folder.name
    if target_dir.exists():
        shutil.rmtree(target_dir)
    (target_dir / name).mkdir(parents=True)
    with open(target_dir / name / STORE_FILE, "w", encoding="utf-8") as handle:
        json.dump(tiled_meta, handle, separators=(",", ":"))
    with open(target_dir / name / STORE_ARRAYS_FILE, "wb") as handle:
        np.savez(handle, **tiled_arrays)
    for index_file in ("index.faiss", "index.json"):
        os.link(folder / index_file, target_dir / name / index_file)
    (target_dir / CURRENT).write_text(name)
    return {
        "citizens": len(tiled_arrays["snapshot_lengths"]),
        "items": len(tiled_arrays["item_id"]),
        "distinct_texts": len(tiled_arrays["text_id"]),
        "seq": int(tiled_meta["seq"]),
        "tile_s": round(time.monotonic() - started, 1),
    }


def measure(args: argparse.Namespace) -> dict[str, Any]:
    base: Path = args.run_dir.resolve()
    million = base / "million"
    emit(f"tiling {base / 'matcher-index'} x{args.copies} load={loadavg()}")
    tiled = tile_snapshot(base / "matcher-index", million / "matcher-index", args.copies)
    emit(f"  {tiled}")
    cluster = EmbeddedPostgres(base / "pg")
    cluster.start()
    suite: Suite | None = None
    try:
        bootstrap = bootstrap_admin(
            cluster,
            email=ADMIN_EMAIL,
            password=ADMIN_PASSWORD,
            organisation="Million Bench Council",
        )
        suite = bench_suite(
            cluster,
            million,
            matcher={
                "TORCH_THREADS": str(args.torch_threads),
                "EMBEDDING_BACKEND": args.embedding_backend,
            },
        )
        suite.start("profiles")
        suite.wait_ready("profiles", timeout=300)
        started = time.monotonic()
        matcher_pid = suite.start("matcher").process.pid
        watcher = PeakWatcher(matcher_pid)
        watcher.start()
        try:
            suite.wait_ready("matcher", timeout=1800)
        except RuntimeError as exc:  # killed (the OOM killer) or exited before it was ready
            watcher.stop()
            emit(f"matcher did not start: {exc}; peak RSS seen {watcher.peak_mb} MB")
            return {
                **not_measured(tiled, args),
                "peak_rss_mb": watcher.peak_mb,
                "outcome": f"the matcher died before it was ready after "
                f"{time.monotonic() - started:.0f} s, at {watcher.peak_mb} MB peak RSS "
                f"(last read): {str(exc).splitlines()[0]}",
            }
        watcher.stop()
        startup_s = time.monotonic() - started
        emit(f"matcher ready in {startup_s:.1f}s, peak RSS {peak_rss_mb(matcher_pid)} MB")
        suite.start("gateway")
        suite.wait_ready("gateway", timeout=300)
        gateway = suite.url("gateway")
        api_key = bootstrap["api_key"]
        pids = [p.process.pid for p in suite.processes.values()] + postgres_pids(cluster)
        asyncio.run(route_fresh_calls(gateway, api_key, first=9000, count=5, clients=1,
                                      seed=args.seed))  # warm-up  # fmt: skip
        ticks = os.sysconf("SC_CLK_TCK")
        stage_urls = {name: suite.url(name) for name in ("gateway", "matcher")}
        stages_before = stage_times(stage_urls)
        processes = {
            **{name: [p.process.pid] for name, p in suite.processes.items()},
            "postgres": postgres_pids(cluster),
            "bench client": [os.getpid()],  # it shares the two cores
        }
        before = cpu_ticks(pids)
        one = asyncio.run(
            route_fresh_calls(gateway, api_key, first=9010, count=args.calls, clients=1,
                              seed=args.seed, processes=processes)
        )  # fmt: skip
        cpu_ms_per_call = (cpu_ticks(pids) - before) / ticks * 1000 / max(one["ok"], 1)
        one["loadavg"] = loadavg()
        one["stage_means_ms"] = stage_means(stages_before, stage_times(stage_urls))
        emit(f"1 client: {one}; CPU {cpu_ms_per_call:.0f} ms/call")
        stages_before = stage_times(stage_urls)
        four = asyncio.run(
            route_fresh_calls(gateway, api_key, first=9010 + args.calls, count=args.calls * 2,
                              clients=4, seed=args.seed, processes=processes)
        )  # fmt: skip
        four["loadavg"] = loadavg()
        four["stage_means_ms"] = stage_means(stages_before, stage_times(stage_urls))
        emit(f"4 clients: {four}")
        admin = admin_headers(gateway, email=ADMIN_EMAIL, password=ADMIN_PASSWORD)

        async def status() -> dict[str, Any]:
            async with httpx.AsyncClient(base_url=gateway, timeout=60) as client:
                return await index_status(client, admin)

        index_state = asyncio.run(status())
        peak = peak_rss_mb(matcher_pid)
        source_runs = (
            json.loads(args.json_out.read_text())["runs"] if args.json_out.exists() else []
        )
        # The kept run tiled here (its citizens count the ones it generated, before the feed
        # added more, so a count never finds it).
        source = next(
            (
                r
                for r in reversed(source_runs)
                if r.get("kept_run_dir")
                and (REPO / r["kept_run_dir"]).resolve() == args.run_dir.resolve()
            ),
            {},
        )
        result: dict[str, Any] = {
            "citizens": tiled["citizens"],
            "distinct_texts": tiled["distinct_texts"],
            "items": tiled["items"],
            "index_kind": index_state["kind"],
            "index_items": index_state["items"],
            "index_citizens": index_state.get("citizens"),
            # The same index as the 100k run (tiling adds citizens, not texts).
            "recall_at_100": source.get("recall_at_100"),
            "recall_from": "the 100,000-citizen run's index, which this run routes through",
            "one_client": one,
            "four_clients": against_cpu_bound(four, cpu_ms_per_call),
            "cpu_ms_per_call": round(cpu_ms_per_call, 1),
            "startup_s": round(startup_s, 1),
            "peak_rss_mb": peak,
            "population": f"the 100,000-citizen run tiled x{args.copies}: each citizen and "
            f"{args.copies - 1} clones holding the same evidence (see bench/scale_million.py)",
            "tiling": tiled,
            "torch_threads": args.torch_threads,
            "embedding_backend": args.embedding_backend,
            "feed_apply": "not measured at this size",
        }
    finally:
        if suite is not None:
            suite.stop_all()
        cluster.stop(mode="fast")
        if not args.keep:
            shutil.rmtree(million, ignore_errors=True)
    return result


def run(args: argparse.Namespace) -> dict[str, Any]:
    result = measure(args)
    result.update(
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
        commit=subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
        ).stdout.strip(),
        loadavg=loadavg(),
        command=" ".join(["bench/scale_million.py", *sys.argv[1:]]),
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument(
        "run_dir", type=Path, nargs="?",
        help="a run folder kept by bench/scale.py --keep (default: the one scale.json names)",
    )  # fmt: skip
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--torch-threads", type=int, default=2)
    parser.add_argument("--embedding-backend", choices=["torch", "onnx"], default="onnx")
    parser.add_argument("--keep", action="store_true", help="keep <run_dir>/million/")
    parser.add_argument("--json-out", type=Path, default=REPO / "bench" / "results" / "scale.json")
    args = parser.parse_args()
    if args.run_dir is None:
        runs = json.loads(args.json_out.read_text())["runs"] if args.json_out.exists() else []
        kept = [r["kept_run_dir"] for r in runs if r.get("kept_run_dir")]
        if not kept or not (REPO / kept[-1]).exists():
            emit("no kept run: run bench/scale.py --citizens 100000 --build-snapshot --keep first")
            return 2
        args.run_dir = REPO / kept[-1]
    result = run(args)
    existing: dict[str, Any] = {"runs": []}
    if args.json_out.exists():
        existing = json.loads(args.json_out.read_text())
    runs = [r for r in existing.get("runs", []) if r.get("citizens") != result["citizens"]]
    runs.append(result)
    runs.sort(key=lambda r: r["citizens"])
    args.json_out.write_text(json.dumps({"benchmark": "scale", "runs": runs}, indent=2) + "\n")
    if result.get("outcome"):
        emit(f"not measured: {result['outcome']}")
        return 1
    one, four = result["one_client"], result["four_clients"]
    emit("| figure | measured at 1,000,000 | goal |")
    emit("|---|---|---|")
    for name, value in (
        ("citizens / distinct texts", f"{result['citizens']:,} / {result['distinct_texts']:,}"),
        ("index", f"{result['index_kind']} ({result['index_items']})"),
        ("recall@100 (the 100k index)", result["recall_at_100"]),
        ("1 client p50 / p99 ms", f"{one['p50_ms']} / {one['p99_ms']}"),
        ("4 clients p50 / p99 ms", f"{four['p50_ms']} / {four['p99_ms']}"),
        ("4 clients throughput /s", f"{four['throughput_per_s']} "
         f"({four['share_of_cpu_bound']:.0%} of {four['cpu_bound_throughput_per_s']})"),
        ("CPU ms per routed call", result["cpu_ms_per_call"]),
        ("matcher start-up s", result["startup_s"]),
        ("matcher peak RSS MB", result["peak_rss_mb"]),
    ):  # fmt: skip
        emit(f"| {name} | {value} | report |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
