"""Concentration figures over invitation counts (pure functions)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def gini(counts: Sequence[int]) -> float | None:
    """Gini coefficient of non-negative counts (0 equal .. 1 all to one); None if no data."""
    values = sorted(counts)
    n = len(values)
    total = sum(values)
    if n == 0 or total == 0:
        return None
    weighted = sum((index + 1) * value for index, value in enumerate(values))
    return (2 * weighted) / (n * total) - (n + 1) / n


def top_share(counts: Sequence[int], *, fraction: float = 0.05) -> float | None:
    """Share of the total held by the top ``fraction`` of the population (at least one)."""
    total = sum(counts)
    if not counts or total == 0:
        return None
    top = max(1, math.ceil(len(counts) * fraction))
    return sum(sorted(counts, reverse=True)[:top]) / total
