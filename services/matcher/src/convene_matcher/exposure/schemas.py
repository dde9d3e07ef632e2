"""The exposure figures as the admin API shows them."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LorenzPoint(BaseModel):
    population: float = Field(description="Share of citizens, fewest invitations first (0..1).")
    share: float = Field(description="Share of all invitations those citizens hold (0..1).")


class ExposureFigures(BaseModel):
    window_days: int
    citizens: int = Field(description="Citizens the matcher knows (the population).")
    invitations: int
    citizens_invited: int
    top_5_percent_share: float | None
    gini: float | None
    accepted: int
    new_voices_share: float | None = Field(
        description="Share of accepted invitations that went to citizens never invited before."
    )
    lorenz: list[LorenzPoint] = Field(
        default_factory=list,
        description="The Lorenz curve of invitations per citizen (never-invited as zeros), "
        "at 5% steps of the population, fewest first.",
    )
    citizens_at_monthly_cap: int = Field(
        default=0,
        description="Citizens whose invitations this calendar month reached their own "
        "max_invitations_per_month (the cap filter now passes them over).",
    )
