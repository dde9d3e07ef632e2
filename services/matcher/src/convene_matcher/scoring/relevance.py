"""From item similarities to per-person relevance."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from convene_matcher.citizens.store import CitizenStore
from convene_matcher.evidence.items import EvidenceItem, item_signal
from convene_matcher.scoring.config import MatchingConfig
from convene_matcher.scoring.lexical import lexical_similarity, lexical_similarity_matrix

FloatArray = npt.NDArray[np.float32]
FloatArray64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Hit:
    item: EvidenceItem
    similarity: float
    # Multiplies the item's weight in both parts of relevance (routing: the "not my
    # expertise" damping of invitations.feedback; 1 = none).
    factor: float = 1.0


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


SECONDS_PER_DAY = 86_400.0


def rating_decay(age_seconds: float, *, config: MatchingConfig) -> float:
    """0.5 ** (age / rating_half_life_days): a rating's weight at its age."""
    days = max(age_seconds, 0.0) / SECONDS_PER_DAY
    return float(0.5 ** (days / config.rating_half_life_days))


def contribution_weight(item: EvidenceItem, config: MatchingConfig, *, now: float | None) -> float:
    """A rated contribution's passage: the weight of its rating
    (``contribution_rating_weights``), decayed by its age at ``now`` (POSIX seconds; None:
    undecayed). 1 for other kinds."""
    if item.kind != "contribution":
        return 1.0
    rating = item.attributes.get("rating")
    weight = config.contribution_rating_weights.get(str(rating), 0.0)
    rated_at = item.attributes.get("rated_at")
    if now is not None and isinstance(rated_at, str) and weight:
        weight *= rating_decay(now - datetime.fromisoformat(rated_at).timestamp(), config=config)
    return weight


def record_weights(
    kinds: npt.NDArray[np.int8],
    signals: FloatArray,
    accepted: npt.NDArray[np.bool_],
    *,
    past_response_code: int,
    answer_code: int,
    config: MatchingConfig,
) -> FloatArray:
    """Per item, the weight of an imported record (1 for other kinds): the formulas of
    MatchingConfig.past_response_rating_slope and .answer_base_weight."""
    weights = np.ones(len(kinds), dtype=np.float32)
    responses = (kinds == past_response_code) & ~np.isnan(signals)
    weights[responses] = 1 + config.past_response_rating_slope * (signals[responses] - 3) / 2
    answers = kinds == answer_code
    if answers.any():
        score = np.nan_to_num(signals[answers], nan=0.0)
        votes = np.minimum(
            1.0, np.log1p(np.maximum(score, 0)) / np.log1p(config.answer_votes_saturation)
        )
        weight = (
            config.answer_base_weight
            + config.answer_vote_weight * votes
            + config.answer_accepted_bonus * accepted[answers]
        )
        weights[answers] = np.where(score < 0, weight / 2, weight)
    return weights


def item_weight(item: EvidenceItem, config: MatchingConfig, *, now: float | None = None) -> float:
    """Skill level weight (skills only) times the weight of the item's kind of evidence,
    times a contribution's rating weight decayed at ``now``."""
    kind = config.kind_weights.get(item.kind, 1.0)
    if item.kind == "skill":
        return kind * config.level_weights.get(str(item.attributes.get("level")), 1.0)
    if item.kind == "contribution":
        return kind * contribution_weight(item, config, now=now)
    if item.kind in ("past_response", "answer"):
        record = record_weights(
            np.array([1 if item.kind == "past_response" else 2], dtype=np.int8),
            np.array([item_signal(item)], dtype=np.float32),
            np.array([bool(item.attributes.get("accepted"))]),
            past_response_code=1,
            answer_code=2,
            config=config,
        )
        return kind * float(record[0])
    return kind


def counts_as_evidence(item: EvidenceItem, config: MatchingConfig) -> bool:
    """A contribution whose rating weighs 0 (by default 1 and 2 stars) is left out, not
    weighted 0: a 0 among a thin profile's few items would pull its top-k mean down."""
    return item.kind != "contribution" or contribution_weight(item, config, now=None) > 0


def relevance_matrix(
    item_vectors: FloatArray,
    query_vectors: FloatArray,
    *,
    config: MatchingConfig,
    item_weights: FloatArray | None = None,
    item_texts: Sequence[str] | None = None,
    query_texts: Sequence[str] | None = None,
) -> FloatArray:
    """One person's relevance for each query over their (weighted) items.

    ``(1 - lexical_weight) x top-k mean of cosines + lexical_weight x top-k mean of lexical
    similarities``; without ``item_texts`` and ``query_texts`` (or with lexical_weight 0),
    the top-k mean of cosines alone. Each part is a property of (item, query) pairs only.
    """
    n_queries = query_vectors.shape[0]
    if item_vectors.shape[0] == 0:
        return np.zeros(n_queries, dtype=np.float32)
    similarities = item_vectors.astype(np.float32) @ query_vectors.astype(np.float32).T
    if item_weights is not None:
        similarities = similarities * item_weights[:, None]
    dense = _top_k_columns(similarities, config.top_k)
    weight = config.lexical_weight
    if weight == 0 or item_texts is None or query_texts is None:
        return dense.astype(np.float32)
    if len(item_texts) != item_vectors.shape[0] or len(query_texts) != n_queries:
        raise ValueError("item_texts and query_texts must match the vectors' rows")
    lexical = lexical_similarity_matrix(
        item_texts, query_texts, idf_floor=config.lexical_idf_floor
    ).astype(np.float64)
    if item_weights is not None:
        lexical = lexical * item_weights[:, None]
    mixed = (1 - weight) * dense + weight * _top_k_columns(lexical, config.top_k)
    return mixed.astype(np.float32)


def _top_k_columns(similarities: npt.NDArray[np.floating[Any]], top_k: int) -> FloatArray64:
    return np.array(
        [aggregate_top_k(column, top_k=top_k) for column in similarities.T], dtype=np.float64
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


def citizen_relevance(
    hits: Iterable[Hit],
    *,
    config: MatchingConfig,
    query_text: str | None = None,
    now: float | None = None,
) -> float:
    """Relevance of one citizen from their retrieved items: weighted, then top-k mean.

    The same rule as relevance_matrix (what /v1/affinity measures): with ``query_text``
    (the call's text) and a non-zero ``config.lexical_weight``, the top-k mean of the items'
    lexical similarities to it is mixed in; without it, cosines alone. Cut-offs such as
    ``config.min_similarity`` are routing's filters, applied before or after, not here.
    """
    hits = [hit for hit in hits if counts_as_evidence(hit.item, config)]
    weights = [item_weight(hit.item, config, now=now) * hit.factor for hit in hits]
    dense = aggregate_top_k(
        [hit.similarity * w for hit, w in zip(hits, weights, strict=True)], top_k=config.top_k
    )
    if config.lexical_weight == 0 or query_text is None or not hits:
        return dense
    lexical = aggregate_top_k(
        [
            lexical_similarity(hit.item.text, query_text, idf_floor=config.lexical_idf_floor) * w
            for hit, w in zip(hits, weights, strict=True)
        ],
        top_k=config.top_k,
    )
    return (1 - config.lexical_weight) * dense + config.lexical_weight * lexical
