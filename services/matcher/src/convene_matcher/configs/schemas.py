"""Matching configurations and activations as the internal API reads and writes them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Actor = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ConfigCreate(BaseModel):
    """``settings``: any subset of MatchingConfig's fields (the rest take their defaults);
    ``created_by``: the admin, set by the gateway."""

    model_config = ConfigDict(extra="forbid")

    settings: dict[str, Any]
    note: str = Field(default="", max_length=2_000)
    created_by: Actor


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


class ActivationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    activated_by: Actor


class ActivationRead(BaseModel):
    id: int
    from_config_id: int | None
    to_config_id: int
    kind: str = Field(description="initial, activate or rollback")
    activated_at: datetime
    activated_by: str


class ActivationList(BaseModel):
    items: list[ActivationRead]
    next_cursor: str | None = None


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: uuid.UUID


class PanelView(BaseModel):
    config_id: int
    members: list[str] = Field(description="Panel refs, best first.")
    fills: dict[str, list[str]]
    quota_coverage: float = Field(description="Share of the call's quota minimums met (0..1).")
    unmet: list[dict[str, Any]]
    eligible: int
    run_ms: float


class PersonChange(BaseModel):
    ref: str
    score: float | None
    active_score: float | None
    rank: int | None = Field(description="1-based rank under this configuration.")
    active_rank: int | None
    roles: list[str]
    why: str


class ScoreShift(BaseModel):
    ref: str
    score: float
    active_score: float
    delta: float
    parts: dict[str, float] = Field(description="Change of each score part.")


class QuotaView(BaseModel):
    role: str
    min: int
    max: int
    config: int
    active: int


class PreviewResult(BaseModel):
    call_id: uuid.UUID
    config_id: int
    active_config_id: int
    settings_changed: dict[str, dict[str, Any]]
    panel: PanelView
    active_panel: PanelView
    joined: list[PersonChange]
    left: list[PersonChange]
    quotas: list[QuotaView]
    score_shifts: list[ScoreShift]
    summary: str
