"""Admin matching configurations and evaluations as the gateway's API takes and returns them.

Request models forbid unknown fields; ``settings`` is validated by the matcher against
MatchingConfig (its 422 names each bad key and passes through unchanged).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class MatchingConfigCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    settings: dict[str, Any] = Field(
        description=(
            "Any MatchingConfig fields (weights, depths, thresholds, caps, fairness); the "
            "rest take their defaults. Tip: start from GET .../active and change one value."
        )
    )
    note: str = Field(default="", max_length=2_000)


class ConfigRead(BaseModel):
    id: int
    settings: dict[str, Any]
    note: str
    created_at: datetime
    created_by: str
    active: bool


class ConfigList(BaseModel):
    items: list[ConfigRead]
    next_cursor: str | None = None


class ActivationRead(BaseModel):
    id: int
    from_config_id: int | None
    to_config_id: int
    kind: str
    activated_at: datetime
    activated_by: str


class ActivationList(BaseModel):
    items: list[ActivationRead]
    next_cursor: str | None = None


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: uuid.UUID


class PreviewResult(BaseModel):
    """The panel under the configuration beside the active one's: ``joined``/``left`` (refs
    with why), ``quotas`` (holders per wanted role), ``score_shifts``, ``settings_changed``."""

    model_config = ConfigDict(extra="allow")

    call_id: uuid.UUID
    config_id: int
    active_config_id: int
    settings_changed: dict[str, Any]
    panel: dict[str, Any]
    active_panel: dict[str, Any]
    joined: list[dict[str, Any]]
    left: list[dict[str, Any]]
    quotas: list[dict[str, Any]]
    score_shifts: list[dict[str, Any]]
    summary: str


class EvaluationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    config_id: int = Field(ge=1, le=2**31 - 1)  # configuration ids are 32-bit serials
    kind: Literal["history", "goldstandard"]
    compare_with_active: bool = True
    limit: int | None = Field(
        default=None,
        ge=1,
        le=100_000,
        description="At most this many labelled calls (history) or researchers (gold standard).",
    )
    variants: list[Annotated[int, Field(ge=1, le=10)]] | None = Field(
        default=None,
        min_length=1,
        max_length=10,
        description="Gold-standard profile variants 1..10 (default all).",
    )


class EvaluationRead(BaseModel):
    id: uuid.UUID
    config_id: int
    kind: str
    compare_with_active: bool
    params: dict[str, Any]
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    progress_percent: float
    result: dict[str, Any] | None
    error: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
