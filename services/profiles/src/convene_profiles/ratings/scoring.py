"""The rating aggregate: a Bayesian average with exponential age decay.

score = (prior_mean * prior_weight + sum(w_i * r_i)) / (prior_weight + sum(w_i)),
w_i = 0.5 ** (age_i / half_life). With the defaults (prior 3.0 weighted as two ratings,
half-life 365 days) one fresh 5 gives 3.67, not 5: no single rating dominates, and old
ratings fade towards the prior.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RatingPolicy:
    prior_mean: float = 3.0
    prior_weight: float = 2.0
    half_life_days: float = 365.0


def aggregate_score(
    ratings: Iterable[tuple[int, datetime]], *, policy: RatingPolicy, now: datetime
) -> tuple[float | None, int]:
    """Returns (score, count); the score is None when there are no ratings."""
    weighted_sum = 0.0
    weight_total = 0.0
    count = 0
    for value, rated_at in ratings:
        age_days = max((now - rated_at).total_seconds() / 86400.0, 0.0)
        weight = 0.5 ** (age_days / policy.half_life_days)
        weighted_sum += weight * value
        weight_total += weight
        count += 1
    if count == 0:
        return None, 0
    score = (policy.prior_mean * policy.prior_weight + weighted_sum) / (
        policy.prior_weight + weight_total
    )
    return round(score, 4), count
