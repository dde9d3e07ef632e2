"""Embedding backends compared on realistic texts: torch fp32, ONNX Runtime fp32, ONNX int8.

One thread each (the model's per-core cost), on short texts (skill labels, roles) and on
~100-word experience passages (80-120 words), one at a time and in batches of 32, as the
matcher embeds them (Embedder.encode_normalised). Reports texts/s of wall time and of the
process's CPU time (the machine is shared: CPU time is the steadier figure; the load
average is recorded beside it), and the quality of each against torch:

- fp32 ONNX: minimum cosine to the torch vectors (the test requires >= 0.9999);
- int8 (only where the CPU has avx512_vnni): cosine to fp32, the overlap of each call's
  top-10 evidence texts with fp32's when both sides are int8 vectors, and when int8 only
  proposes 100 candidates that fp32 vectors re-score (the only use allowed for int8).

    .venv/bin/python bench/embedding_backends.py [--short 300] [--long 100] [--json-out ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.realistic.generator import generate_citizens  # noqa: E402
from bench.realistic.vectors import call_queries, distinct_items  # noqa: E402
from convene_matcher.config import MatcherSettings  # noqa: E402
from convene_matcher.embedding.backends import (  # noqa: E402
    OnnxSentenceModel,
    export_onnx,
    int8_model,
    int8_supported,
)
from convene_matcher.embedding.embedder import (  # noqa: E402
    Embedder,
    SentenceModel,
    load_sentence_transformer,
)
from convene_matcher.embedding.text import normalise_text  # noqa: E402

Vectors = np.ndarray


def emit(line: str) -> None:
    print(line, flush=True)  # noqa: T201


def texts_of(kind: str, count: int) -> list[str]:
    items = distinct_items(list(generate_citizens(count=1_500, seed=77)))
    if kind == "short":
        chosen = [text for k, _, text in items if k != "experience"]
    else:
        chosen = [
            text for k, _, text in items if k == "experience" and 80 <= len(text.split()) <= 120
        ]
    if len(chosen) < count:
        raise SystemExit(f"only {len(chosen)} {kind} texts")
    return [normalise_text(text) for text in chosen[:count]]


def speed(
    encode: Callable[[list[str]], Vectors], texts: list[str], *, batch: bool
) -> dict[str, float]:
    encode(texts[:4])  # warm-up (first-call allocations)
    wall, cpu = time.perf_counter(), time.process_time()
    if batch:
        encode(texts)
    else:
        for text in texts:
            encode([text])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "texts": len(texts),
        "texts_per_s": round(len(texts) / wall, 1),
        "texts_per_cpu_s": round(len(texts) / cpu, 1),
    }


def measure(model: SentenceModel, short: list[str], long: list[str]) -> dict[str, Any]:
    embedder = Embedder(model=model, model_name="bench", batch_size=32, cache_entries=0)
    encode = embedder.encode_normalised
    one_short, one_long = short[: len(short) // 2], long[: len(long) // 2]
    return {
        "short_one_at_a_time": speed(encode, one_short, batch=False),
        "short_batch32": speed(encode, short, batch=True),
        "long_one_at_a_time": speed(encode, one_long, batch=False),
        "long_batch32": speed(encode, long, batch=True),
    }


def top_k(queries: Vectors, corpus: Vectors, k: int) -> np.ndarray:
    return np.argsort(-(queries @ corpus.T), axis=1)[:, :k]


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean([len(set(x) & set(y)) / len(x) for x, y in zip(a, b, strict=True)]))


def int8_quality(fp32: OnnxSentenceModel, int8: OnnxSentenceModel) -> dict[str, float]:
    items = distinct_items(list(generate_citizens(count=150, seed=78)))
    corpus_texts = [normalise_text(text) for _, _, text in items][:1_500]
    calls = [normalise_text(text) for text in call_queries(78, 100)]

    def vectors(model: SentenceModel, texts: list[str]) -> Vectors:
        embedder = Embedder(model=model, model_name="bench", cache_entries=0)
        return embedder.encode_normalised(texts)

    corpus32, calls32 = vectors(fp32, corpus_texts), vectors(fp32, calls)
    corpus8, calls8 = vectors(int8, corpus_texts), vectors(int8, calls)
    truth = top_k(calls32, corpus32, 10)
    candidates = top_k(calls8, corpus8, 100)
    rescored = np.stack(
        [
            row[np.argsort(-(corpus32[row] @ query))[:10]]
            for row, query in zip(candidates, calls32, strict=True)
        ]
    )
    cosines = (corpus8 * corpus32).sum(axis=1)
    return {
        "corpus_texts": len(corpus_texts),
        "calls": len(calls),
        "cosine_to_fp32_mean": round(float(cosines.mean()), 4),
        "cosine_to_fp32_min": round(float(cosines.min()), 4),
        "top10_overlap_int8_only": round(overlap(top_k(calls8, corpus8, 10), truth), 4),
        "top10_overlap_int8_top100_rescored_fp32": round(overlap(rescored, truth), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", type=int, default=300)
    parser.add_argument("--long", type=int, default=100)
    parser.add_argument("--json-out", default=None)
    args = parser.parse_args()
    load_before = [round(x, 2) for x in os.getloadavg()]
    model_path = MatcherSettings().model_path
    short, long = texts_of("short", args.short), texts_of("long", args.long)
    emit(f"short texts: {len(short)} (mean {np.mean([len(t.split()) for t in short]):.1f} words)")
    emit(f"long texts: {len(long)} (mean {np.mean([len(t.split()) for t in long]):.1f} words)")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as onnx_dir:
        torch_model = load_sentence_transformer(model_path, torch_threads=1)
        onnx_file = export_onnx(model_path, Path(onnx_dir))
        onnx_model = OnnxSentenceModel(model_path=model_path, onnx_file=onnx_file, threads=1)
        results["torch_fp32"] = measure(torch_model, short, long)
        results["onnx_fp32"] = measure(onnx_model, short, long)
        reference = Embedder(model=torch_model, model_name="b", cache_entries=0)
        candidate = Embedder(model=onnx_model, model_name="b", cache_entries=0)
        both = short + long
        cosines = (reference.encode_normalised(both) * candidate.encode_normalised(both)).sum(1)
        results["onnx_fp32"]["min_cosine_to_torch"] = round(float(cosines.min()), 6)
        vnni = int8_supported()
        if vnni:
            int8 = int8_model(model_path=model_path, threads=1, onnx_dir=Path(onnx_dir))
            results["onnx_int8"] = measure(int8, short, long)
            results["onnx_int8"]["quality"] = int8_quality(onnx_model, int8)
        else:
            results["onnx_int8"] = {"skipped": "the CPU lacks avx512_vnni"}
    speedups: dict[str, float] = {}
    for backend in ("onnx_fp32", "onnx_int8"):
        for case in ("short_one_at_a_time", "short_batch32", "long_one_at_a_time", "long_batch32"):
            if case in results[backend]:
                speedups[f"{backend}.{case}"] = round(
                    results[backend][case]["texts_per_cpu_s"]
                    / results["torch_fp32"][case]["texts_per_cpu_s"],
                    2,
                )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
    ).stdout.strip()
    output = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "threads": 1,
        "avx512_vnni": vnni,
        "loadavg_before": load_before,
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "backends": results,
        "speedup_per_cpu_s_vs_torch": speedups,
    }
    emit(f"{'backend':<12} {'case':<22} {'texts/s':>9} {'texts/cpu-s':>12}")
    for backend, cases in results.items():
        for case, figures in cases.items():
            if isinstance(figures, dict) and "texts_per_s" in figures:
                emit(
                    f"{backend:<12} {case:<22} {figures['texts_per_s']:>9} "
                    f"{figures['texts_per_cpu_s']:>12}"
                )
    emit(json.dumps({"speedup_per_cpu_s_vs_torch": speedups}, indent=1))
    if "quality" in results["onnx_int8"]:
        emit(json.dumps({"int8_quality": results["onnx_int8"]["quality"]}, indent=1))
    emit(f"load average before {load_before}, after {output['loadavg_after']}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(output, indent=1) + "\n")


if __name__ == "__main__":
    main()
