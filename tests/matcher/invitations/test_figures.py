"""Concentration figures: the Lorenz curve behind the admin exposure chart."""

from __future__ import annotations

import itertools

import pytest

from convene_matcher.exposure.figures import gini, lorenz


def test_lorenz_of_a_large_population_has_twenty_one_points() -> None:
    counts = [0] * 950 + [10] * 50
    points = lorenz(counts)
    assert len(points) == 21
    assert points[0] == (0.0, 0.0)
    assert points[19] == (0.95, 0.0)  # the top 5% hold every invitation
    assert points[20] == (1.0, 1.0)


def test_lorenz_of_a_small_population_has_one_point_per_person() -> None:
    assert lorenz([3, 1]) == [(0.0, 0.0), (0.5, 0.25), (1.0, 1.0)]


def test_lorenz_without_invitations_is_the_line_of_equality() -> None:
    assert all(x == y for x, y in lorenz([0, 0, 0], steps=4))
    assert lorenz([], steps=2) == [(0.0, 0.0), (0.5, 0.5), (1.0, 1.0)]


def test_lorenz_area_agrees_with_gini() -> None:
    counts = list(range(100))
    points = lorenz(counts, steps=100)
    area = sum((x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in itertools.pairwise(points))
    assert 1 - 2 * area == pytest.approx(gini(counts), abs=0.01)
