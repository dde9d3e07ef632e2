"""Offline evaluation metrics (pure functions; definitions in the docstrings).

Labels per call and citizen: relevant (accepted and rated >= RELEVANT_RATING), not relevant
(declined as not_my_expertise), or neither (invited without a usable answer).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

RELEVANT_RATING = 4
NOT_MY_EXPERTISE = "not_my_expertise"
TOP_K = 10


def relevance_label(*, answer: str, decline_reason: str | None, rating: int | None) -> bool | None:
    if answer == "accepted" and rating is not None and rating >= RELEVANT_RATING:
        return True
    if answer == "declined" and decline_reason == NOT_MY_EXPERTISE:
        return False
    return None


def ndcg_at_k(ranked: Sequence[str], relevant: set[str], *, k: int = TOP_K) -> float | None:
    """Binary-gain nDCG@k: DCG = sum over the top k of rel_i / log2(i + 1) (i from 1), over
    the ideal DCG with every relevant citizen of the call ranked first. Unlabelled candidates
    count as not relevant. None when the call has no relevant label (left out of the mean)."""
    if not relevant:
        return None
    dcg = sum(1 / math.log2(i + 2) for i, c in enumerate(ranked[:k]) if c in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal


def acceptance_at_k(
    ranked: Sequence[str], answers: Mapping[str, str], *, k: int = TOP_K
) -> float | None:
    """Of the top k who were invited and answered (accepted or declined), the share that
    accepted. None when none of the top k answered."""
    answered = [answers[c] for c in ranked[:k] if answers.get(c) in ("accepted", "declined")]
    if not answered:
        return None
    return sum(1 for a in answered if a == "accepted") / len(answered)


def gini(counts: Sequence[int]) -> float:
    """Gini coefficient of panel seats over a population (0 = equal, toward 1 = a few hold
    all): sum_i (2i - n - 1) x_i / (n sum x), x sorted ascending, i from 1."""
    values = sorted(counts)
    n, total = len(values), sum(values)
    if n == 0 or total == 0:
        return 0.0
    return sum((2 * (i + 1) - n - 1) * x for i, x in enumerate(values)) / (n * total)


def top_share(counts: Sequence[int], *, share: float = 0.05) -> float:
    """Share of panel seats held by the top ``share`` (at least one person) of the population."""
    total = sum(counts)
    if total == 0:
        return 0.0
    top = max(1, math.ceil(share * len(counts)))
    return sum(sorted(counts, reverse=True)[:top]) / total


def mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None
