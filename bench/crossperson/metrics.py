"""Ranking metrics of the best answerer: R@k (the best answerer within the first k) and MRR
(1 / their rank; 0 when a method does not rank them at all)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


def rank_of(target: str, ranking: Sequence[str]) -> int | None:
    """1-based rank of ``target`` in ``ranking``; None when absent."""
    for position, person in enumerate(ranking, start=1):
        if person == target:
            return position
    return None


@dataclass(frozen=True, slots=True)
class Figures:
    calls: int
    recall_at_10: float
    recall_at_50: float
    mrr: float
    any_relevant_at_10: float  # share of calls with any true answerer in the first 10

    def as_dict(self) -> dict[str, float | int]:
        return {
            "calls": self.calls,
            "R@10": round(self.recall_at_10, 4),
            "R@50": round(self.recall_at_50, 4),
            "MRR": round(self.mrr, 4),
            "any@10": round(self.any_relevant_at_10, 4),
        }


def figures(
    rankings: Sequence[Sequence[str]], best: Sequence[str], relevant: Sequence[frozenset[str]]
) -> Figures:
    if not (len(rankings) == len(best) == len(relevant)):
        raise ValueError("one ranking, one best answerer and one relevant set per call")
    n = len(rankings)
    if n == 0:
        return Figures(0, 0.0, 0.0, 0.0, 0.0)
    at_10 = at_50 = reciprocal = any_10 = 0.0
    for ranking, target, targets in zip(rankings, best, relevant, strict=True):
        rank = rank_of(target, ranking)
        if rank is not None:
            at_10 += rank <= 10
            at_50 += rank <= 50
            reciprocal += 1.0 / rank
        any_10 += bool(targets.intersection(ranking[:10]))
    return Figures(n, at_10 / n, at_50 / n, reciprocal / n, any_10 / n)


def relative_margin(value: float, baseline: float) -> float:
    """(value - baseline) / baseline; inf when the baseline is 0 and the value is not."""
    if baseline == 0:
        return 0.0 if value == 0 else float("inf")
    return (value - baseline) / baseline
