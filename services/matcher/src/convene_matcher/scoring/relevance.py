"""From item similarities to per-person relevance."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from convene_matcher.citizens.store import CitizenStore
from convene_matcher.evidence.items import EvidenceItem
from convene_matcher.scoring.config import MatchingConfig

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Hit:
    item: EvidenceItem
    similarity: float


def aggregate_top_k(similarities: Sequence[float] | FloatArray, *, top_k: int) -> float:
    """Mean of the top_k largest values; with fewer values, their mean; none -> 0.0.

    Averaging what exists (rather than padding with zeros) does not punish a citizen with a
    thin profile (a new voice with one strong skill); routing's other terms and
    min_similarity keep a single weak item from counting.
    """
    values = np.asarray(similarities, dtype=np.float64)
    if values.size == 0:
        return 0.0
    if values.size > top_k:
        values = np.partition(values, values.size - top_k)[values.size - top_k :]
    return float(values.mean())


def item_weight(item: EvidenceItem, config: MatchingConfig) -> float:
    if item.kind == "skill":
        return config.level_weights.get(str(item.attributes.get("level")), 1.0)
    return 1.0


def relevance_matrix(
    item_vectors: FloatArray,
    query_vectors: FloatArray,
    *,
    config: MatchingConfig,
    item_weights: FloatArray | None = None,
) -> FloatArray:
    """One person's relevance for each query: top-k mean over their (weighted) items."""
    n_queries = query_vectors.shape[0]
    if item_vectors.shape[0] == 0:
        return np.zeros(n_queries, dtype=np.float32)
    similarities = item_vectors.astype(np.float32) @ query_vectors.astype(np.float32).T
    if item_weights is not None:
        similarities = similarities * item_weights[:, None]
    return np.array(
        [aggregate_top_k(column, top_k=config.top_k) for column in similarities.T],
        dtype=np.float32,
    )


def group_hits(
    scores: FloatArray, ids: npt.NDArray[np.int64], store: CitizenStore
) -> dict[str, list[Hit]]:
    """One query's index results grouped per citizen (ids the store no longer has dropped)."""
    grouped: dict[str, list[Hit]] = {}
    for score, item_id in zip(scores.tolist(), ids.tolist(), strict=True):
        if item_id < 0:
            continue
        item = store.item(item_id)
        if item is None:
            continue
        grouped.setdefault(item.citizen_id, []).append(Hit(item, float(score)))
    return grouped


def citizen_relevance(hits: Iterable[Hit], *, config: MatchingConfig) -> float:
    """Relevance of one citizen from their retrieved items: weighted, then top-k mean.

    The same rule as relevance_matrix (what /v1/affinity measures); cut-offs such as
    ``config.min_similarity`` are routing's filters, applied before or after, not here.
    """
    weighted = [hit.similarity * item_weight(hit.item, config) for hit in hits]
    return aggregate_top_k(weighted, top_k=config.top_k)
