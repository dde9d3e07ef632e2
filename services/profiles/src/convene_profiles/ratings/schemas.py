from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class RatingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    public_body_id: UUID
    contribution_id: UUID
    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=4000)
    topic: str | None = Field(default=None, max_length=300)
    # The rated contribution's answers and comment, in the citizen's own words.
    contribution_text: str | None = Field(default=None, max_length=120_000)
    confidential: bool = False


class RatingRead(BaseModel):
    id: UUID
    public_body_id: UUID
    contribution_id: UUID
    rating: int
    comment: str | None
    topic: str | None
    rated_at: datetime
    contribution_text: str | None = None
    confidential: bool = False


class RatingAggregate(BaseModel):
    """Bayesian average with age decay; score is null until the first rating."""

    score: float | None
    count: int


class RatingList(BaseModel):
    items: list[RatingRead]
    aggregate: RatingAggregate
    next_cursor: str | None = None
