"""The concentration figures over the exposure ledger (admin)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from convene_common.db import Pool
from convene_matcher.exposure import figures, repository
from convene_matcher.exposure.schemas import ExposureFigures


def compute_figures(
    *, counts: list[int], population: int, accepted: int, new: int, days: int
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
    )


async def exposure_figures(
    *, pool: Pool, population: int, days: int, now: datetime | None = None
) -> ExposureFigures:
    """``population``: every citizen the matcher knows."""
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    async with pool.acquire() as connection:
        counts = await repository.exposure_counts(connection, since=since)
        accepted, new = await repository.new_voices(connection, since=since)
    return compute_figures(
        counts=counts, population=population, accepted=accepted, new=new, days=days
    )
