"""Invitations as public bodies and citizens see them (internal API; the gateway adds auth)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_MESSAGE_CHARS = 2_000
MAX_REFS = 500

Ref = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^c_[0-9a-f]{20}$")]
Message = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_MESSAGE_CHARS)
]
InvitationStatus = Literal["pending", "accepted", "declined", "withdrawn", "expired"]
DeclineReason = Literal[
    "not_my_expertise", "no_time", "not_interested", "conflict_of_interest", "other"
]
SkipReason = Literal[
    "already_invited",
    "consent",
    "availability",
    "invitation_cap",
    "hours_per_month",
    "unavailable_citizen",
]


class InvitationCreate(BaseModel):
    """Invite ``refs`` from the call's shortlist, or the proposed panel when refs is absent."""

    model_config = ConfigDict(extra="forbid")

    refs: list[Ref] | None = Field(default=None, min_length=1, max_length=MAX_REFS)
    message: Message | None = None


class Skipped(BaseModel):
    ref: str
    reason: SkipReason


class InvitationBodyRead(BaseModel):
    """What the inviting body sees: pseudonymous until accepted (contact added by the gateway).

    ``contact_citizen_id`` is set only for accepted invitations: the gateway uses it to fetch
    name and email (when the citizen consents to contact) and never forwards it."""

    id: uuid.UUID
    call_id: uuid.UUID
    ref: str
    status: InvitationStatus
    fills: list[str]
    explanation: dict[str, Any]
    message: str | None
    hours_offered: float | None
    invited_at: datetime
    answered_at: datetime | None
    rating: int | None = None
    contact_citizen_id: uuid.UUID | None = None


class InvitationBatch(BaseModel):
    call_id: uuid.UUID
    items: list[InvitationBodyRead]
    skipped: list[Skipped]


class InvitationList(BaseModel):
    items: list[InvitationBodyRead]
    next_cursor: str | None = None


class CallSummary(BaseModel):
    """The call as the invited citizen may see it (its confidentiality tier applied)."""

    id: uuid.UUID
    title: str
    public_body_name: str
    confidentiality: str
    deadline: datetime
    hours: float | None
    status: str
    description: str | None = None
    questions: list[str] | None = None
    skills: list[str] | None = None
    withheld: list[str] = Field(
        default_factory=list, description="Fields held back by the call's confidentiality."
    )
    note: str | None = Field(
        default=None, description="Why fields are held back, and when they will be shown."
    )


class EvidenceShown(BaseModel):
    kind: str
    text: str
    similarity: float
    verified: bool | None = None
    level: str | None = None
    # The citizen marked it "not shown to public bodies": bodies read "private evidence".
    private: bool = False
    # Imported records: "answered on <site>", "response to a <source> consultation".
    source: str | None = None


class WhyYou(BaseModel):
    evidence: list[EvidenceShown]
    roles: list[str]
    fills: list[str]


class CitizenInvitationRead(BaseModel):
    id: uuid.UUID
    call_id: uuid.UUID
    status: InvitationStatus
    call_title: str
    public_body_name: str
    deadline: datetime
    hours_asked: float | None
    hours_offered: float | None
    decline_reason: str | None
    invited_at: datetime
    answered_at: datetime | None


class CitizenInvitationDetail(CitizenInvitationRead):
    message: str | None
    why_you: WhyYou
    call: CallSummary
    outcome: str | None = None
    can_undo: bool
    cited: list[CitedAnswer] = Field(
        default_factory=list, description="Your answers the closing outcome cites."
    )
    follow_outcome: bool = Field(
        default=False, description="You declined and asked to be told the outcome."
    )
    has_contribution: bool = False
    can_contribute: bool = Field(
        default=False, description="Accepted, open, before the deadline and not yet rated."
    )


class CitizenInvitationPage(BaseModel):
    items: list[CitizenInvitationRead]
    next_cursor: str | None


class AcceptRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hours_offered: float | None = Field(default=None, gt=0, le=1_000)


class DeclineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: DeclineReason | None = None


class RatingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: int = Field(ge=1, le=5)
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4_000)] | None = (
        None
    )


class RatingRead(BaseModel):
    call_id: uuid.UUID
    ref: str
    rating: int
    comment: str | None
    rated_at: datetime


class Cited(BaseModel):
    """A contribution the outcome cites: one of its answers (``question``) or all of it."""

    model_config = ConfigDict(extra="forbid")

    ref: Ref
    question: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]
        | None
    ) = None


class CloseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)
    ]
    cited: list[Cited] = Field(default_factory=list, max_length=MAX_REFS)


class CitedAnswer(BaseModel):
    """One of the citizen's own answers the outcome cites (question null: their comment or
    the whole contribution)."""

    question: str | None
    text: str | None


class CloseResult(BaseModel):
    call_id: uuid.UUID
    outcome: str
    closed_at: datetime
    notified: int = Field(
        description="Contributors (accepted invitations) and declined citizens who asked to "
        "be told, sent the outcome."
    )
    withdrawn: int = Field(description="Pending invitations withdrawn by closing.")
    cited: list[Cited] = Field(default_factory=list)


class BodyStats(BaseModel):
    public_body_id: uuid.UUID
    window_days: int
    invitations_sent: int
    answered: int
    accepted: int
    declined: int
    response_rate: float | None
    acceptance_rate: float | None = Field(description="Accepted / answered.")
    median_hours_to_answer: float | None
    invitations_last_24h: int
    throttled: bool
    throttle_reason: str | None
