"""The matcher's part of a citizen's GDPR export."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class ExportedRating(BaseModel):
    rating: int
    comment: str | None
    rated_at: datetime


class ExportedContribution(BaseModel):
    answers: list[dict[str, str]] = Field(description="[{question, text}] as submitted.")
    comment: str | None
    submitted_at: datetime
    updated_at: datetime | None


class ExportedInvitation(BaseModel):
    id: uuid.UUID
    call_id: uuid.UUID
    call_title: str
    public_body_id: uuid.UUID
    public_body_name: str
    deadline: datetime
    status: str
    message: str | None = Field(description="The inviting body's message to the citizen.")
    hours_asked: float | None
    hours_offered: float | None
    decline_reason: str | None
    invited_at: datetime
    answered_at: datetime | None
    reminded_at: datetime | None
    explanation: dict[str, Any] = Field(
        description='Why they were matched: the evidence shown ("why you") and roles.'
    )
    fills: list[str]
    rating: ExportedRating | None
    outcome: str | None
    closed_at: datetime | None
    contribution: ExportedContribution | None = None
    cited: list[dict[str, Any]] = Field(
        default_factory=list, description="The outcome's citations of this contribution."
    )
    follow_outcome: bool = False


class ExportedMatch(BaseModel):
    """A time the citizen was ranked for a call (the body sees ``ref`` only)."""

    call_id: uuid.UUID
    ref: str
    score: float
    position: int | None
    in_panel: bool
    fills: list[str]
    explanation: dict[str, Any]
    latest: bool
    matched_at: datetime


class ExportedExposure(BaseModel):
    public_body_id: uuid.UUID
    call_id: uuid.UUID | None
    invited_at: datetime


class ExportedFeedback(BaseModel):
    """Evidence the citizen said was "not my expertise" (damped in later routing)."""

    invitation_id: uuid.UUID
    evidence_text: str
    created_at: datetime


class ExportedOutcomeLabel(BaseModel):
    call_id: uuid.UUID
    answer: str
    decline_reason: str | None
    rating: int | None
    source: str
    recorded_at: datetime


class ExportedNotification(BaseModel):
    kind: str
    channel: str
    payload: dict[str, Any]
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None


class MatcherExport(BaseModel):
    """Everything the matcher holds about one citizen."""

    citizen_id: uuid.UUID
    invitations: list[ExportedInvitation]
    matches: list[ExportedMatch]
    exposure: list[ExportedExposure]
    feedback: list[ExportedFeedback]
    outcome_labels: list[ExportedOutcomeLabel]
    notifications: list[ExportedNotification]
