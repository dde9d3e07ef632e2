"""Cross-person routing benchmark: the right people out of many, on public Stack Exchange data.

People are a site's answerers; their answers before a cut-off are their evidence (loaded as
experience entries through the matcher's feed path); later questions are calls; the true
answerers are the targets (docs/benchmarks/cross-person.md). Prints R@10, R@50 and MRR of the
best answerer for the product's routing (routing.pipeline.route with a MatchingConfig) and, on
the same split in the same run, BM25, popularity and plain MiniLM (max, mean): full calls
(title + body) and title-only calls, pooled (every site's people in one population) and per
site. Writes bench/results/cross_person.json.

    .venv/bin/python scripts/xbench/fetch_stackexchange.py   # once: data into .data/
    .venv/bin/python bench/cross_person.py [--data .data/stackexchange] [--sites a,b]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.crossperson.baselines import BM25, MiniLM, answer_text, popularity
from bench.crossperson.data import Split, cutoff_at, load_site, split_site
from bench.crossperson.metrics import Figures, figures, relative_margin

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO / ".data" / "stackexchange"
RESULTS = REPO / "bench" / "results"
FETCH_HINT = (
    "no Stack Exchange data under {path}: run `.venv/bin/python "
    "scripts/xbench/fetch_stackexchange.py` first (it copies the dumps from local mirrors of "
    "their GitHub repositories; see docs/benchmarks/cross-person.md)"
)
BASELINES = ("bm25", "popularity", "minilm-max", "minilm-mean")
# The defaults before this benchmark: no track record, the routing cut-off at 0.25.
BEFORE = "track_record_weight=0,min_similarity=0.25"


def emit(line: str) -> None:
    print(line, flush=True)  # noqa: T201


def call_text(call: Any, *, title_only: bool) -> str:
    return call.title if title_only else f"{call.title.rstrip('.')}. {call.body}"


async def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from bench.crossperson.product import CachedModel, ProductRouter
    from convene_matcher.config import MatcherSettings
    from convene_matcher.embedding.embedder import Embedder, load_sentence_transformer
    from convene_matcher.scoring import MatchingConfig

    sites = [s for s in args.sites.split(",") if s]
    splits: list[Split] = []
    for name in sites:
        site = load_site(args.data / name)
        cutoff = cutoff_at(site, fraction=args.cutoff_fraction)
        splits.append(
            split_site(
                site,
                cutoff=cutoff,
                min_answers=args.min_answers,
                max_answers_per_person=args.max_answers_per_person,
                answer_chars=args.answer_chars,
            )
        )
    # People are site:user, so one population can hold every site's people.
    for split in splits:
        split.evidence = {f"{split.site}:{p}": v for p, v in split.evidence.items()}
        split.calls = [
            type(c)(
                question_id=c.question_id,
                title=c.title,
                body=c.body,
                created=c.created,
                best=f"{split.site}:{c.best}",
                relevant=frozenset(f"{split.site}:{r}" for r in c.relevant),
            )
            for c in split.calls
        ]
    settings = MatcherSettings()
    started = time.process_time()
    model = CachedModel(
        load_sentence_transformer(settings.model_path, torch_threads=args.torch_threads),
        args.data / ".cache" / f"{settings.model_name}.npz",
    )
    embedder = Embedder(model=model, model_name=settings.model_name)
    router = ProductRouter(embedder)
    try:
        items = await router.load(splits)
        model.save()
        # Plain MiniLM: one vector per earlier answer.
        owners = [p for s in splits for p in s.people for _ in s.evidence[p]]
        answers = [answer_text(e) for s in splits for p in s.people for e in s.evidence[p]]
        answer_vectors = await embedder.embed(answers)
        model.save()
        configs = {"default": MatchingConfig(shortlist_size=args.shortlist)}
        for weight in args.track_record_weights:
            configs[f"track_record_weight={weight:g}"] = MatchingConfig(
                shortlist_size=args.shortlist, track_record_weight=weight
            )
        for variant in [*args.variant, *([] if args.no_before else [BEFORE])]:
            settings_of = dict(part.split("=", 1) for part in variant.split(","))
            configs[variant] = MatchingConfig.model_validate(
                {"shortlist_size": args.shortlist, **settings_of}
            )
        # Every call routed once per configuration and mode over the one index (all people);
        # a population's figures keep its own people from those rankings.
        all_calls = [c for s in splits for c in s.calls]
        routed: dict[tuple[str, str], dict[int, list[str]]] = {}
        for name, config in configs.items():
            for mode in ("full", "title"):
                rankings = await router.rank(all_calls, config=config, title_only=mode == "title")
                routed[name, mode] = {
                    id(call): ranking for call, ranking in zip(all_calls, rankings, strict=True)
                }
        populations: dict[str, list[Split]] = {"pooled": splits}
        if len(splits) > 1:
            populations.update({s.site: [s] for s in splits})
        results: dict[str, Any] = {}
        for label, members in populations.items():
            evidence = {p: e for s in members for p, e in s.evidence.items()}
            calls = [c for s in members for c in s.calls]
            people = set(evidence)
            bm25 = BM25({p: " ".join(answer_text(e) for e in evidence[p]) for p in evidence})
            popular = popularity(evidence)
            keep = [i for i, owner in enumerate(owners) if owner in people]
            scoped = MiniLM([owners[i] for i in keep], answer_vectors[keep])
            best = [c.best for c in calls]
            relevant = [c.relevant for c in calls]
            population: dict[str, Any] = {
                "people": len(people),
                "evidence_answers": sum(len(v) for v in evidence.values()),
                "calls": len(calls),
            }
            for mode in ("full", "title"):
                title_only = mode == "title"
                texts = [call_text(c, title_only=title_only) for c in calls]
                queries = await embedder.embed(texts)
                table: dict[str, Figures] = {
                    "bm25": figures([bm25.rank(t) for t in texts], best, relevant),
                    "popularity": figures([popular] * len(calls), best, relevant),
                    "minilm-max": figures(
                        [scoped.rank(q, how="max") for q in queries], best, relevant
                    ),
                    "minilm-mean": figures(
                        [scoped.rank(q, how="mean") for q in queries], best, relevant
                    ),
                }
                for name in configs:
                    # Only this population's people count (the pooled index holds all).
                    rankings = [
                        [p for p in routed[name, mode][id(c)] if p in people] for c in calls
                    ]
                    table[f"product {name}"] = figures(rankings, best, relevant)
                population[mode] = {name: f.as_dict() for name, f in table.items()}
            results[label] = population
        model.save()
    finally:
        router.close()
    return {
        "sites": sites,
        "cutoff_fraction": args.cutoff_fraction,
        "min_answers": args.min_answers,
        "answer_chars": args.answer_chars,
        "max_answers_per_person": args.max_answers_per_person,
        "evidence_items": items,
        "cpu_seconds": round(time.process_time() - started, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "results": results,
    }


def margins(table: dict[str, dict[str, float]], product: str) -> dict[str, float]:
    best_r10 = max(table[b]["R@10"] for b in BASELINES)
    best_mrr = max(table[b]["MRR"] for b in BASELINES)
    return {
        "R@10": round(relative_margin(table[product]["R@10"], best_r10), 4),
        "MRR": round(relative_margin(table[product]["MRR"], best_mrr), 4),
    }


def print_tables(report: dict[str, Any]) -> None:
    for label, population in report["results"].items():
        emit(
            f"\n== {label}: {population['people']} people, {population['evidence_answers']} "
            f"earlier answers, {population['calls']} calls"
        )
        emit(f"{'method':<40} {'mode':<6} {'R@10':>6} {'R@50':>6} {'MRR':>6} {'any@10':>7}")
        for mode in ("full", "title"):
            for name, row in population[mode].items():
                emit(
                    f"{name:<40} {mode:<6} {row['R@10']:>6.3f} {row['R@50']:>6.3f} "
                    f"{row['MRR']:>6.3f} {row['any@10']:>7.3f}"
                )
            margin = margins(population[mode], "product default")
            population[mode]["margin_vs_best_baseline"] = margin
            emit(
                f"{'product default vs best baseline':<40} {mode:<6} R@10 {margin['R@10']:+.1%}"
                f"  MRR {margin['MRR']:+.1%}"
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sites", default="matheducators,quantumcomputing,ai")
    parser.add_argument("--cutoff-fraction", type=float, default=0.6)
    parser.add_argument("--min-answers", type=int, default=3)
    parser.add_argument("--max-answers-per-person", type=int, default=None)
    parser.add_argument(
        "--answer-chars",
        type=int,
        default=200,
        help="each earlier answer's first N characters (all methods): bounds embedding time",
    )
    parser.add_argument("--shortlist", type=int, default=200)
    parser.add_argument(
        "--track-record-weights", type=lambda s: [float(x) for x in s.split(",") if x],
        default=[0.0, 0.1, 0.5],
    )  # fmt: skip
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        help="another MatchingConfig to route with, e.g. lexical_weight=0.5,top_k=5",
    )
    parser.add_argument(
        "--no-before",
        action="store_true",
        help=f"leave out the configuration before the track record ({BEFORE})",
    )
    parser.add_argument("--torch-threads", type=int, default=2)
    parser.add_argument("--json-out", type=Path, default=RESULTS / "cross_person.json")
    args = parser.parse_args(argv)
    present = [s for s in args.sites.split(",") if (args.data / s / "Posts.xml").exists()]
    if not present:
        emit(FETCH_HINT.format(path=args.data))
        return 0
    args.sites = ",".join(present)
    started = time.monotonic()
    report = asyncio.run(evaluate(args))
    report["wall_seconds"] = round(time.monotonic() - started, 1)
    print_tables(report)
    emit(
        f"\n{report['wall_seconds']} s wall, {report['cpu_seconds']} s CPU, peak RSS "
        f"{report['peak_rss_mb']} MB, load average {report['load_average']}"
    )
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
