"""Routing batches as the gateway's API takes and returns them (requests forbid extras)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_BATCH_CALLS = 500

TimeLimit = Field(
    default=20.0, gt=0, le=60, description="The solver's time limit in seconds (at most 60)."
)


class AdminBatchCreate(BaseModel):
    """``call_ids`` (any bodies' open calls) or ``public_body_id`` with ``open_calls: true``."""

    model_config = ConfigDict(extra="forbid")

    call_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=MAX_BATCH_CALLS)
    public_body_id: uuid.UUID | None = None
    open_calls: bool = False
    time_limit_seconds: float = TimeLimit

    @model_validator(mode="after")
    def _one_selection(self) -> AdminBatchCreate:
        if self.call_ids is None and not self.open_calls:
            raise ValueError("give call_ids, or public_body_id with open_calls: true")
        if self.call_ids is not None and (self.open_calls or self.public_body_id is not None):
            raise ValueError("give call_ids, or public_body_id with open_calls: true; not both")
        if self.open_calls and self.public_body_id is None:
            raise ValueError("open_calls needs public_body_id")
        return self


class BodyBatchCreate(BaseModel):
    """Your open calls (the default), or some of them by ``call_ids``."""

    model_config = ConfigDict(extra="forbid")

    call_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=MAX_BATCH_CALLS)
    time_limit_seconds: float = TimeLimit


class BatchMember(BaseModel):
    ref: str = Field(description="The call's pseudonymous candidate ref (as in its match).")
    score: float
    fills: list[str] = Field(description="Quota roles filled, or ['relevance'].")


class UnmetQuota(BaseModel):
    role: str
    wanted: int
    found: int


class BatchCallRead(BaseModel):
    call_id: uuid.UUID
    panel_size: int
    panel: list[BatchMember]
    score: float
    unmet: list[UnmetQuota]
    sequential_score: float = Field(
        description="This call's panel score when the calls are routed one after another."
    )
    sequential_unmet: list[UnmetQuota]


class BatchRead(BaseModel):
    """The panels solved together, beside routing the calls one after another under the same
    caps (``sequential_*``). Nothing has been sent."""

    id: uuid.UUID
    public_body_id: uuid.UUID | None
    requested_by: str
    config_id: int | None
    method: Literal["flow", "flow+cpsat", "cpsat", "sequential", "empty"]
    optimal: bool
    solve_ms: float
    candidates_ms: float
    sequential_ms: float
    total_score: float
    sequential_total_score: float
    seats: int
    sequential_seats: int
    unmet: int = Field(description="Quota members missing over every call.")
    sequential_unmet: int
    cap_violations: int = Field(description="Citizens seated beyond their monthly cap (0).")
    created_at: datetime
    calls: list[BatchCallRead]
