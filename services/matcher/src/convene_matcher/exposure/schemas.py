"""The exposure figures as the admin API shows them."""

from __future__ import annotations

from pydantic import BaseModel, Field


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
