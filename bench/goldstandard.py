"""Gold-standard expertise benchmark against the running matcher's POST /v1/affinity.

Starts an embedded PostgreSQL and the matcher under uvicorn on 127.0.0.1, runs the shared
harness (../shared/benchmarks/goldstandard/evaluate.py, read at run time: the data is never
copied here) with --methods http, and prints its table (loss / easy / hard, mean of the
10 variants). --compare adds the harness's own baselines for a paired comparison.

    .venv/bin/python bench/goldstandard.py [--variants 1-10] [--compare minilm-top3]
        [--embedding-backend torch|onnx|onnx-int8]
        [--candidate-text t]   (titles only: short, one-line calls)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _matcher_server import REPO, embedded_database, matcher_server

DEFAULT_DATA = REPO.parent / "shared" / "benchmarks" / "goldstandard"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("GOLDSTANDARD_DIR", DEFAULT_DATA))
    )
    parser.add_argument("--variants", default="1-10")
    parser.add_argument(
        "--compare", default="", help="harness methods to run too, e.g. minilm-top3"
    )
    parser.add_argument(
        "--candidate-text",
        choices=["ta", "t"],
        default="ta",
        help="ta: title + abstract (default); t: titles only (short, one-line calls)",
    )
    parser.add_argument("--bootstrap", default="0")
    parser.add_argument("--json-out", default=None)
    parser.add_argument(
        "--embedding-backend",
        choices=["torch", "onnx", "onnx-int8"],
        default="torch",
        help="the matcher's CONVENE_MATCHER_EMBEDDING_BACKEND",
    )
    args = parser.parse_args()
    onnx_dir = REPO / ".run" / "onnx"
    if args.embedding_backend != "torch":
        # Exported here, once (kept in .run/onnx), so the matcher's start-up only loads it.
        from convene_matcher.config import MatcherSettings
        from convene_matcher.embedding.backends import export_onnx

        export_onnx(MatcherSettings().model_path, onnx_dir)
    with (
        embedded_database() as (_, dsn),
        matcher_server(
            dsn, embedding_backend=args.embedding_backend, onnx_dir=str(onnx_dir)
        ) as url,
    ):
        methods = ",".join(m for m in ["http", *args.compare.split(",")] if m)
        command = [
            sys.executable, str(args.data / "evaluate.py"), str(args.data),
            "--methods", methods, "--http-url", f"{url}/v1/affinity",
            "--variants", args.variants, "--bootstrap", args.bootstrap,
            "--candidate-text", args.candidate_text,
        ]  # fmt: skip
        if args.json_out:
            command += ["--json-out", args.json_out]
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
