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


def lorenz(counts: Sequence[int], *, steps: int = 20) -> list[tuple[float, float]]:
    """The Lorenz curve of ``counts`` (fewest first) at up to ``steps`` equal population
    shares: (share of the population, share of the total it holds), from (0, 0) to (1, 1).
    Each point is a whole number of people (fewer people than steps: one point each). No
    data (nobody, or nothing counted) is the line of equality."""
    values = sorted(counts)
    total = sum(values)
    if not values or total == 0:
        return [(step / steps, step / steps) for step in range(steps + 1)]
    points = [(0.0, 0.0)]
    running = 0
    taken = 0
    for step in range(1, steps + 1):
        people = round(len(values) * step / steps)
        if people == taken:
            continue
        running += sum(values[taken:people])
        taken = people
        points.append((round(people / len(values), 4), round(running / total, 4)))
    return points
