"""The concentration figures over the exposure ledger (admin)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from convene_common.db import Pool
from convene_matcher.exposure import figures, repository
from convene_matcher.exposure.schemas import ExposureFigures, LorenzPoint
from convene_matcher.exposure.window import month_start


def compute_figures(
    *,
    counts: list[int],
    population: int,
    accepted: int,
    new: int,
    days: int,
    citizens_at_monthly_cap: int = 0,
) -> ExposureFigures:
    """Pure: the figures from per-citizen invitation counts (the never-invited count as zeros
    up to ``population``) and the accepted / new-voice counts."""
    population = max(population, len(counts))
    padded = counts + [0] * (population - len(counts))
    gini = figures.gini(padded)
    top = figures.top_share(padded)
    return ExposureFigures(
        window_days=days,
        citizens=population,
        invitations=sum(counts),
        citizens_invited=len(counts),
        top_5_percent_share=round(top, 4) if top is not None else None,
        gini=round(gini, 4) if gini is not None else None,
        accepted=accepted,
        new_voices_share=round(new / accepted, 4) if accepted else None,
        lorenz=[
            LorenzPoint(population=population_share, share=share)
            for population_share, share in figures.lorenz(padded)
        ],
        citizens_at_monthly_cap=citizens_at_monthly_cap,
    )


async def exposure_figures(
    *,
    pool: Pool,
    population: int,
    days: int,
    monthly_cap_of: Callable[[str], int | None] | None = None,
    now: datetime | None = None,
) -> ExposureFigures:
    """``population``: every citizen the matcher knows; ``monthly_cap_of``: a citizen's own
    max_invitations_per_month (None: no cap, or unknown), for how often caps were hit."""
    moment = now or datetime.now(UTC)
    since = moment - timedelta(days=days)
    async with pool.acquire() as connection:
        counts = await repository.exposure_counts(connection, since=since)
        accepted, new = await repository.new_voices(connection, since=since)
        this_month = await repository.exposure_counts_by_citizen(
            connection, since=month_start(moment)
        )
    at_cap = sum(
        1
        for citizen_id, count in this_month.items()
        if monthly_cap_of is not None
        and (cap := monthly_cap_of(citizen_id)) is not None
        and count >= cap
    )
    return compute_figures(
        counts=counts,
        population=population,
        accepted=accepted,
        new=new,
        days=days,
        citizens_at_monthly_cap=at_cap,
    )
