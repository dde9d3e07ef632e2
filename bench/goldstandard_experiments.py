"""Offline scoring experiments on the gold-standard benchmark (numpy, no HTTP).

Embeds every benchmark text once with the matcher's own embedder recipe (normalise_text,
MiniLM, unit vectors), caches the vectors in .run/goldstandard_vectors.npz (ignored by git;
keyed by the sha256 of the normalised text, so no benchmark text is stored), then scores
many variants of the relevance rule quickly and prints loss / easy / hard averaged over
the variants with the harness's own metric code (evaluate.py imported at run time from
../shared/benchmarks/goldstandard: the data is never copied here).

    .venv/bin/python bench/goldstandard_experiments.py [--variants 1-10] [--only NAME...]

Every variant is stateless: a score depends only on the request (one researcher's papers and
the candidates); nothing is fitted on the benchmark apart from the few knobs swept here,
whose whole curves are printed.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "services" / "matcher" / "src"))

from convene_matcher.config import MatcherSettings  # noqa: E402
from convene_matcher.embedding import Embedder, load_sentence_transformer  # noqa: E402
from convene_matcher.embedding.text import normalise_text, text_key  # noqa: E402
from convene_matcher.scoring import MatchingConfig, relevance_matrix  # noqa: E402
from convene_matcher.scoring.lexical import idf, lexical_similarity_matrix, tokens  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "benchmarks" / "goldstandard"
CACHE = REPO / ".run" / "goldstandard_vectors.npz"

Array = Any  # numpy arrays; this is a script


def say(line: str, *, err: bool = False) -> None:
    print(line, file=sys.stderr if err else sys.stdout, flush=True)


def load_harness(data_dir: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("gs_evaluate", data_dir / "evaluate.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"no evaluate.py in {data_dir}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def content(paper: dict[str, Any]) -> str:
    """What /v1/affinity embeds (schemas.Paper.content)."""
    text = paper.get("text") or ""
    if text.strip():
        return str(text)
    title, abstract = (paper.get("title") or "").strip(), (paper.get("abstract") or "").strip()
    return f"{title}. {abstract}" if title and abstract else title or abstract


def title_of(paper: dict[str, Any]) -> str:
    return (paper.get("title") or "").strip() or content(paper)


class VectorCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.vectors: dict[bytes, Array] = {}
        if path.exists():
            data = np.load(path)
            for key, vector in zip(data["keys"], data["vectors"], strict=True):
                self.vectors[bytes(key)] = vector

    def fill(self, texts: list[str]) -> None:
        missing = {text_key(normalise_text(t)): normalise_text(t) for t in texts}
        missing = {k: t for k, t in missing.items() if k not in self.vectors}
        if not missing:
            return
        settings = MatcherSettings()
        model = load_sentence_transformer(settings.model_path, torch_threads=1)
        embedder = Embedder(model=model, model_name=settings.model_name)
        keys = list(missing)
        started = time.time()
        encoded = embedder.encode_normalised([missing[k] for k in keys])
        say(f"embedded {len(keys)} texts in {time.time() - started:.0f}s", err=True)
        for key, vector in zip(keys, encoded, strict=True):
            self.vectors[key] = vector
        self.path.parent.mkdir(parents=True, exist_ok=True)
        all_keys = list(self.vectors)
        np.savez(
            self.path,
            keys=np.array([np.frombuffer(k, dtype=np.uint8) for k in all_keys]),
            vectors=np.stack([self.vectors[k] for k in all_keys]),
        )

    def get(self, texts: list[str]) -> Array:
        return np.stack([self.vectors[text_key(normalise_text(t))] for t in texts]).astype(
            np.float64
        )


# -- aggregation ------------------------------------------------------------------------
def top_k_mean(sims: Array, k: int) -> Array:
    """(n_items, n_queries) -> per query, mean of the k best (fewer items: all)."""
    k = min(k, sims.shape[0])
    return np.sort(sims, axis=0)[-k:].mean(axis=0)


def geometric(sims: Array, ratio: float, k: int) -> Array:
    k = min(k, sims.shape[0])
    best = np.sort(sims, axis=0)[::-1][:k]
    weights = ratio ** np.arange(k)
    return (weights[:, None] * best).sum(axis=0) / weights.sum()


def zscore(values: Array) -> Array:
    std = values.std()
    return (values - values.mean()) / std if std > 1e-12 else values * 0


# -- request-level features (computed once per researcher and variant) ------------------
class Request:
    def __init__(self, papers: list[dict[str, Any]], cands: list[dict[str, Any]]) -> None:
        self.papers, self.cands = papers, cands
        self.paper_texts = [content(p) for p in papers]
        self.cand_texts = [content(c) for c in cands]
        self._lex: dict[tuple[str, float], Array] = {}

    def dense(self, cache: VectorCache) -> Array:
        if not hasattr(self, "_dense"):
            self._dense = cache.get(self.paper_texts) @ cache.get(self.cand_texts).T
            self._title = (
                cache.get([title_of(p) for p in self.papers])
                @ cache.get([title_of(c) for c in self.cands]).T
            )
            self._title_ta = (
                cache.get([title_of(p) for p in self.papers]) @ cache.get(self.cand_texts).T
            )
        return self._dense

    def lexvar(self, **kw: Any) -> Array:
        key = ("var", tuple(sorted(kw.items())))
        if key not in self._lex:
            a = self.paper_texts
            if kw.pop("concat", False):
                a = [" ".join(a)]
            self._lex[key] = lex_variant_matrix(a, self.cand_texts, **kw)
        return self._lex[key]

    def lexical(self, floor: float, which: str = "ta") -> Array:
        key = (which, floor)
        if key not in self._lex:
            if which == "ta":
                a, b = self.paper_texts, self.cand_texts
            else:
                a = [title_of(p) for p in self.papers]
                b = [title_of(c) for c in self.cands]
            self._lex[key] = lexical_similarity_matrix(a, b, idf_floor=floor).astype(np.float64)
        return self._lex[key]


Scorer = Callable[[Request, VectorCache], Array]


def lex_variant_matrix(
    a: list[str],
    b: list[str],
    *,
    floor: float,
    power: float = 1.0,
    bigrams: float = 0.0,
    tf: str = "log",
) -> Array:
    """Exploration-only variants of scoring.lexical (idf power, bigrams, tf shape)."""

    def vector(text: str) -> dict[str, float]:
        words = tokens(text)
        counts: dict[str, float] = {}
        for w in words:
            counts[w] = counts.get(w, 0) + 1
        out: dict[str, float] = {}
        for w, n in counts.items():
            base = max(0.0, idf(w) - floor) ** power
            shape = 1 + np.log(n) if tf == "log" else (n * 2.2 / (n + 1.2) if tf == "bm25" else 1.0)
            if base > 0:
                out[w] = shape * base
        if bigrams:
            for w1, w2 in itertools.pairwise(words):
                wt = max(0.0, min(idf(w1), idf(w2)) - floor) ** power * bigrams
                if wt > 0:
                    out[w1 + " " + w2] = out.get(w1 + " " + w2, 0.0) + wt
        norm = np.sqrt(sum(v * v for v in out.values())) or 1.0
        return {k: v / norm for k, v in out.items()}

    va, vb = [vector(t) for t in a], [vector(t) for t in b]
    m = np.zeros((len(a), len(b)))
    for i, x in enumerate(va):
        for j, y in enumerate(vb):
            if len(y) < len(x):
                x2, y2 = y, x
            else:
                x2, y2 = x, y
            m[i, j] = sum(v * y2.get(k, 0.0) for k, v in x2.items())
    return m


def dense_topk(k: int) -> Scorer:
    return lambda r, c: top_k_mean(r.dense(c), k) if r.papers else np.zeros(len(r.cands))


def lexical_topk(k: int, floor: float) -> Scorer:
    return lambda r, c: top_k_mean(r.lexical(floor), k)


def mix_item(lam: float, floor: float, k: int = 3) -> Scorer:
    """Per item: (1 - lam) dense + lam lexical, then the top-k mean (routing-compatible)."""
    return lambda r, c: top_k_mean((1 - lam) * r.dense(c) + lam * r.lexical(floor), k)


def mix_item_geo(lam: float, floor: float, ratio: float, k: int = 5) -> Scorer:
    return lambda r, c: geometric((1 - lam) * r.dense(c) + lam * r.lexical(floor), ratio, k)


def mix_after(lam: float, floor: float, k: int = 3) -> Scorer:
    """Aggregate each side separately, then mix on raw scale."""
    return lambda r, c: (
        (1 - lam) * top_k_mean(r.dense(c), k) + lam * top_k_mean(r.lexical(floor), k)
    )


def mix_z(lam: float, floor: float, k: int = 3) -> Scorer:
    """Aggregate separately, z-normalise each within the request, mix (affinity-only)."""
    return lambda r, c: (
        (1 - lam) * zscore(top_k_mean(r.dense(c), k))
        + lam * zscore(top_k_mean(r.lexical(floor), k))
    )


def title_mix(beta: float, mode: str, k: int = 3) -> Scorer:
    def scorer(r: Request, c: VectorCache) -> Array:
        dense = r.dense(c)
        other = r._title if mode == "tt" else r._title_ta
        return top_k_mean((1 - beta) * dense + beta * other, k)

    return scorer


def title_lex_mix(beta: float, lam: float, floor: float, k: int = 3) -> Scorer:
    def scorer(r: Request, c: VectorCache) -> Array:
        dense = (1 - beta) * r.dense(c) + beta * r._title
        return top_k_mean((1 - lam) * dense + lam * r.lexical(floor), k)

    return scorer


def round2() -> dict[str, Scorer]:
    v: dict[str, Scorer] = {}

    def after(lam: float, k: int = 3, **kw: Any) -> Scorer:
        def scorer(r: Request, c: VectorCache) -> Array:
            lex = r.lexvar(**kw)
            return (1 - lam) * top_k_mean(r.dense(c), k) + lam * top_k_mean(lex, 3)

        return scorer

    def item(lam: float, k: int = 3, **kw: Any) -> Scorer:
        return lambda r, c: top_k_mean((1 - lam) * r.dense(c) + lam * r.lexvar(**kw), k)

    for floor in (0.0, 2.0, 4.0):
        for lam in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45):
            v[f"R2 mix-after floor{floor:g} lam{lam:g}"] = after(lam, floor=floor)
    for floor in (0.0, 2.0):
        v[f"R2 lex-concat floor{floor:g}"] = after(1.0, floor=floor, concat=True)
        for lam in (0.1, 0.2, 0.3, 0.4):
            v[f"R2 concat-after floor{floor:g} lam{lam:g}"] = after(lam, floor=floor, concat=True)
    for power in (0.5, 1.5, 2.0):
        v[f"R2 lex top3 floor0 pow{power:g}"] = after(1.0, floor=0.0, power=power)
        for lam in (0.2, 0.3, 0.4):
            v[f"R2 mix-item floor0 pow{power:g} lam{lam:g}"] = item(lam, floor=0.0, power=power)
    for tf in ("bm25", "binary"):
        v[f"R2 lex top3 floor0 tf{tf}"] = after(1.0, floor=0.0, tf=tf)
        for lam in (0.3, 0.4):
            v[f"R2 mix-item floor0 tf{tf} lam{lam:g}"] = item(lam, floor=0.0, tf=tf)
    for bg in (0.5, 1.0):
        v[f"R2 lex top3 floor0 bigram{bg:g}"] = after(1.0, floor=0.0, bigrams=bg)
        for lam in (0.3, 0.4):
            v[f"R2 mix-item floor0 bigram{bg:g} lam{lam:g}"] = item(lam, floor=0.0, bigrams=bg)
    return v


def round3() -> dict[str, Scorer]:
    """Aggregate dense and lexical separately (top-k or geometric), then mix on raw scale."""
    v: dict[str, Scorer] = {}

    def agg(kind: str) -> Callable[[Array], Array]:
        if kind.startswith("geo"):
            ratio = float(kind[3:])
            return lambda s: geometric(s, ratio, 5)
        k = int(kind[3:])
        return lambda s: top_k_mean(s, k)

    def after(lam: float, floor: float, dense: str, lex: str) -> Scorer:
        da, la = agg(dense), agg(lex)
        return lambda r, c: (1 - lam) * da(r.dense(c)) + lam * la(r.lexical(floor))

    for dense, lex in (
        ("top3", "top1"),
        ("top3", "top2"),
        ("top3", "top5"),
        ("geo0.5", "top3"),
        ("geo0.7", "top3"),
        ("geo0.5", "geo0.5"),
        ("geo0.7", "geo0.7"),
    ):
        for lam in (0.25, 0.3, 0.35, 0.4):
            v[f"R3 after d-{dense} l-{lex} floor4 lam{lam:g}"] = after(lam, 4.0, dense, lex)
    for floor in (3.0, 5.0, 6.0):
        for lam in (0.25, 0.3, 0.35, 0.4):
            v[f"R3 after d-top3 l-top3 floor{floor:g} lam{lam:g}"] = after(
                lam, floor, "top3", "top3"
            )
    return v


def package_default(r: Request, c: VectorCache) -> Array:
    """scoring.relevance_matrix with MatchingConfig() defaults: what /v1/affinity runs."""
    if not r.papers:
        return np.zeros(len(r.cands))
    return relevance_matrix(
        c.get(r.paper_texts).astype(np.float32),
        c.get(r.cand_texts).astype(np.float32),
        config=MatchingConfig(),
        item_texts=r.paper_texts,
        query_texts=r.cand_texts,
    ).astype(np.float64)


def build_variants() -> dict[str, Scorer]:
    v: dict[str, Scorer] = {"package default (MatchingConfig())": package_default}
    v.update(round2())
    v.update(round3())
    for k in (1, 2, 3, 4, 5):
        v[f"dense top{k}"] = dense_topk(k)
    for floor in (0.0, 2.0, 4.0, 5.0, 6.0, 7.0):
        v[f"lex top3 floor{floor:g}"] = lexical_topk(3, floor)
    for floor in (0.0, 4.0, 6.0):
        for lam in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6):
            v[f"mix-item top3 floor{floor:g} lam{lam:g}"] = mix_item(lam, floor)
    for floor in (2.0, 5.0, 7.0):
        for lam in (0.2, 0.3, 0.4):
            v[f"mix-item top3 floor{floor:g} lam{lam:g}"] = mix_item(lam, floor)
    for k in (2, 4, 5):
        for lam in (0.2, 0.3, 0.4):
            v[f"mix-item top{k} floor4 lam{lam:g}"] = mix_item(lam, 4.0, k)
    for lam in (0.2, 0.3, 0.4):
        v[f"mix-after top3 floor4 lam{lam:g}"] = mix_after(lam, 4.0)
        v[f"mix-z top3 floor4 lam{lam:g}"] = mix_z(lam, 4.0)
    for ratio in (0.5, 0.7, 0.85):
        for lam in (0.2, 0.3, 0.4):
            v[f"mix-item geo{ratio:g} floor4 lam{lam:g}"] = mix_item_geo(lam, 4.0, ratio)
    for beta in (0.1, 0.2, 0.3, 0.5):
        v[f"title tt beta{beta:g}"] = title_mix(beta, "tt")
        v[f"title t-ta beta{beta:g}"] = title_mix(beta, "tta")
    for beta in (0.1, 0.2):
        for lam in (0.2, 0.3, 0.4):
            v[f"title tt beta{beta:g} + lex floor4 lam{lam:g}"] = title_lex_mix(beta, lam, 4.0)
    return v


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("GOLDSTANDARD_DIR", DEFAULT_DATA))
    )
    parser.add_argument("--variants", default="1-10")
    parser.add_argument("--only", nargs="*", default=None, help="substrings of variant names")
    args = parser.parse_args()
    harness = load_harness(args.data)
    data = harness.load_dataset(str(args.data), harness.parse_variants(args.variants))
    refs = data["refs"]
    participants = sorted(refs)
    requests: dict[str, list[tuple[str, Request]]] = {}
    texts: list[str] = []
    for name, variant in data["variants"].items():
        requests[name] = []
        for r in participants:
            papers = variant["profiles"][r]
            cands = [variant["papers"][p] for p in refs[r]]
            requests[name].append((r, Request(papers, cands)))
            for paper in [*papers, *cands]:
                texts += [content(paper), title_of(paper)]
    cache = VectorCache(CACHE)
    cache.fill(texts)
    ones = np.ones((1, len(participants)))
    scorers = build_variants()
    if args.only:
        scorers = {n: s for n, s in scorers.items() if any(o in n for o in args.only)}
    say(f"{'variant':<46}{'loss':>8}{'easy':>8}{'hard':>8}   per-variant loss min..max")
    for label, scorer in scorers.items():
        stats: dict[str, list[float]] = {"loss": [], "easy": [], "hard": []}
        for name in data["variants"]:
            preds = {}
            for r, request in requests[name]:
                scores = scorer(request, cache)
                assert np.all(np.isfinite(scores))
                preds[r] = {c["id"]: float(s) for c, s in zip(request.cands, scores, strict=True)}
            point = harness.stats_from_terms(
                harness.participant_terms(preds, refs, participants), ones
            )
            for key in stats:
                stats[key].append(float(point[key][0]))
        loss = stats["loss"]
        say(
            f"{label:<46}{np.mean(loss):>8.4f}{np.mean(stats['easy']):>8.3f}"
            f"{np.mean(stats['hard']):>8.3f}   {min(loss):.3f}..{max(loss):.3f}",
        )


if __name__ == "__main__":
    main()
