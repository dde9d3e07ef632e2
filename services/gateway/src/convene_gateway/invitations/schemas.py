"""Public shapes of invitations (and the matcher answers they are built from)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Ref = Annotated[str, StringConstraints(pattern=r"^c_[0-9a-f]{20}$")]
Status = Literal["pending", "accepted", "declined", "withdrawn", "expired"]


class InvitationCreate(BaseModel):
    """Invite ``refs`` from the call's shortlist, or its proposed panel when refs is absent."""

    model_config = ConfigDict(extra="forbid")

    refs: list[Ref] | None = Field(default=None, min_length=1, max_length=500)
    message: Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None = None


class Contact(BaseModel):
    name: str
    email: str


class _Invitation(BaseModel):
    id: uuid.UUID
    call_id: uuid.UUID
    ref: str
    status: Status
    fills: list[str]
    explanation: dict[str, Any]
    message: str | None
    hours_offered: float | None
    invited_at: datetime
    answered_at: datetime | None
    rating: int | None = None


class MatcherInvitation(_Invitation):
    contact_citizen_id: uuid.UUID | None = None


class InvitationRead(_Invitation):
    contact: Contact | None = Field(
        default=None, description="Only when the citizen accepted and consents to contact."
    )


class Skipped(BaseModel):
    ref: str
    reason: str


class MatcherInvitationBatch(BaseModel):
    call_id: uuid.UUID
    items: list[MatcherInvitation]
    skipped: list[Skipped]


class InvitationBatch(BaseModel):
    call_id: uuid.UUID
    items: list[InvitationRead]
    skipped: list[Skipped]


class MatcherInvitationList(BaseModel):
    items: list[MatcherInvitation]
    next_cursor: str | None = None


class InvitationList(BaseModel):
    items: list[InvitationRead]
    next_cursor: str | None = None


class RatingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: int = Field(ge=1, le=5)
    comment: Annotated[str, StringConstraints(max_length=4000)] | None = None


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
    question: Annotated[str, StringConstraints(min_length=1, max_length=2_000)] | None = None


class CloseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
    cited: list[Cited] = Field(
        default_factory=list,
        max_length=500,
        description='Contributions the outcome cites ("you said, we did"); each contributor '
        "sees which of their answers were cited.",
    )


class CloseResult(BaseModel):
    call_id: uuid.UUID
    outcome: str
    closed_at: datetime
    notified: int
    withdrawn: int
    cited: list[Cited] = Field(default_factory=list)


class CitedAnswer(BaseModel):
    question: str | None = Field(description="null: your comment / the whole contribution.")
    text: str | None


class BodyStats(BaseModel):
    window_days: int
    invitations_sent: int
    answered: int
    accepted: int
    declined: int
    response_rate: float | None
    acceptance_rate: float | None
    median_hours_to_answer: float | None
    invitations_last_24h: int
    throttled: bool
    throttle_reason: str | None


class WebhookEndpointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class WebhookEndpointRead(BaseModel):
    url: str
    secret: str | None = Field(description="Shown once, when the endpoint is first set.")
    created_at: datetime
    updated_at: datetime


class AcceptRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hours_offered: float | None = Field(default=None, gt=0, le=1000)


class DeclineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: (
        Literal["not_my_expertise", "no_time", "not_interested", "conflict_of_interest", "other"]
        | None
    ) = None


class CitizenInvitationRead(BaseModel):
    id: uuid.UUID
    call_id: uuid.UUID
    status: Status
    call_title: str
    public_body_name: str
    deadline: datetime
    hours_asked: float | None
    hours_offered: float | None
    decline_reason: str | None
    invited_at: datetime
    answered_at: datetime | None


class CitizenInvitationPage(BaseModel):
    items: list[CitizenInvitationRead]
    next_cursor: str | None


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


class CallSummary(BaseModel):
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


class LorenzPoint(BaseModel):
    population: float = Field(description="Share of citizens, fewest invitations first (0..1).")
    share: float = Field(description="Share of all invitations those citizens hold (0..1).")


class ExposureFigures(BaseModel):
    window_days: int
    citizens: int
    invitations: int
    citizens_invited: int
    top_5_percent_share: float | None
    gini: float | None
    accepted: int
    new_voices_share: float | None
    lorenz: list[LorenzPoint] = Field(
        default_factory=list,
        description="The Lorenz curve of invitations per citizen at 5% population steps.",
    )
    citizens_at_monthly_cap: int = Field(
        default=0, description="Citizens who reached their own monthly invitation cap."
    )


class DeliveryAttempt(BaseModel):
    attempt: int
    outcome: str
    detail: str | None
    at: datetime


class DeadLetter(BaseModel):
    id: int
    kind: str
    channel: str
    delivery_id: uuid.UUID
    attempts: int
    last_error: str | None
    created_at: datetime
    deliveries: list[DeliveryAttempt]


class DeadLetterPage(BaseModel):
    items: list[DeadLetter]
    next_cursor: str | None
