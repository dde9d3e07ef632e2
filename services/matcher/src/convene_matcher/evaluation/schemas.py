"""Evaluation jobs as the internal API reads and writes them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

GOLDSTANDARD_VARIANTS = range(1, 11)


class EvaluationCreate(BaseModel):
    """``limit``: at most this many labelled calls (history) or researchers (gold standard);
    ``variants``: gold-standard profile variants (1..10; default all)."""

    model_config = ConfigDict(extra="forbid")

    config_id: int = Field(ge=1, le=2**31 - 1)  # configuration ids are 32-bit serials
    kind: Literal["history", "goldstandard"]
    compare_with_active: bool = True
    limit: int | None = Field(default=None, ge=1, le=100_000)
    variants: list[int] | None = Field(default=None, min_length=1, max_length=10)
    created_by: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]

    @field_validator("variants")
    @classmethod
    def _known_variants(cls, value: list[int] | None) -> list[int] | None:
        if value is None:
            return None
        unknown = [v for v in value if v not in GOLDSTANDARD_VARIANTS]
        if unknown:
            raise ValueError(f"variants are 1..10; unknown: {unknown}")
        return sorted(set(value))


JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class EvaluationRead(BaseModel):
    id: uuid.UUID
    config_id: int
    kind: str
    compare_with_active: bool
    params: dict[str, Any]
    status: JobStatus
    progress_percent: float
    result: dict[str, Any] | None
    error: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
