"""What the matcher answers, as the gateway reads it and hands it on (docs/internal-api.md).

Unlike the profiles models, these ignore fields they do not declare (pydantic's
extra="ignore", stated explicitly): they are also the public response models, and a public
body must only ever see pseudonymous, explained candidates. A matcher bug that put a name,
an email, a citizen id or an exact place into an answer is dropped here, never passed on.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class MatcherModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


# -- calls ------------------------------------------------------------------------------
class SkillWantedRead(MatcherModel):
    label: str
    code: str | None = None


class PerspectiveRead(MatcherModel):
    role: str
    min: int
    max: int


class CallPlaceRead(MatcherModel):
    authority_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None


class CallRead(MatcherModel):
    id: uuid.UUID
    public_body_id: uuid.UUID
    public_body_name: str
    title: str
    description: str
    questions: list[str]
    skills: list[SkillWantedRead]
    perspectives: list[PerspectiveRead]
    place: CallPlaceRead | None
    languages: list[str]
    access_offered: list[str] = Field(default_factory=list)
    access_not_offered: list[str] = Field(default_factory=list)
    hours: float | None
    deadline: datetime
    panel_size: int
    conflicts: list[str]
    confidentiality: str
    status: str = Field(description="open, closed or cancelled")
    created_at: datetime
    created_by: str | None = Field(
        default=None, description="Who posted it: account:<id> (staff) or api_key:<id>."
    )
    updated_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None


class CallCancelledRead(CallRead):
    withdrawn: int


class CallPage(MatcherModel):
    items: list[CallRead]
    next_cursor: str | None = Field(
        description="Pass back as ?cursor= for the next page; null on the last page."
    )


# -- routing ----------------------------------------------------------------------------
class EvidenceRead(MatcherModel):
    """One item of a candidate's evidence that matched the call (a skill, badge, role or
    rated contribution), never who they are."""

    kind: str
    text: str
    similarity: float
    verified: bool | None = None
    level: str | None = None
    # Imported records: "answered on <site>", "response to a <source> consultation".
    source: str | None = None


class AdjustmentsRead(MatcherModel):
    """The score's parts: score = similarity + verified_badges + rating + track_record +
    locality + exposure."""

    similarity: float
    verified_badges: float
    rating: float
    locality: float
    exposure: float
    track_record: float = Field(
        default=0.0,
        description=(
            "How much the citizen has done and said in the call's area (their evidence on "
            "the call's topic, ln-scaled; the matching configuration's track_record_weight)."
        ),
    )
    not_my_expertise: float = Field(
        default=0.0,
        description=(
            "Already included in similarity (<= 0): what the citizen's own 'not my expertise' "
            "declines of this evidence took off."
        ),
    )


class CandidateRead(MatcherModel):
    ref: str = Field(description="A pseudonymous reference, stable for this call only.")
    score: float
    evidence: list[EvidenceRead]
    adjustments: AdjustmentsRead
    roles: list[str] = Field(
        default_factory=list, description="The call's wanted roles this candidate holds."
    )


class PanelMemberRead(MatcherModel):
    ref: str
    fills: list[str] = Field(description="Quota roles filled, or ['relevance'].")


class UnmetRead(MatcherModel):
    role: str
    wanted: int
    found: int
    reason: str


class PanelNeedRead(MatcherModel):
    """An access need of panel members, counted (nobody named): for the body to arrange."""

    need: str
    members: int
    summary: str = Field(description='e.g. "2 members need step-free access".')


class MatchStatsRead(MatcherModel):
    """Counts only (no one is identifiable from them)."""

    retrieved: int
    role_holders: int
    eligible: int
    filtered: dict[str, int]
    panel_method: str


class MatchResult(MatcherModel):
    call_id: uuid.UUID
    candidates: list[CandidateRead]
    panel: list[PanelMemberRead]
    unmet: list[UnmetRead]
    panel_needs: list[PanelNeedRead] = Field(
        default_factory=list,
        description=(
            "What the panel needs to take part: each access need of its members and how many "
            "need it. Needs exclude nobody unless the call lists them in access_not_offered."
        ),
    )
    stats: MatchStatsRead | None = None
    config_id: int | None = Field(
        default=None, description="The matching configuration that ranked it."
    )


# -- admin ------------------------------------------------------------------------------
class AffinityResult(MatcherModel):
    scores: list[float]


class IndexStatus(MatcherModel):
    model: str
    dimension: int
    kind: str
    last_seq: int
    head_seq: int | None
    lag: int | None
    items: int
    tombstones: int
    citizens: int
    last_snapshot_seq: int | None
    feed_running: bool
    feed_consecutive_errors: int
    feed_last_error: str | None
    embed_cache_entries: int
    texts_encoded: int


class RebuildResult(MatcherModel):
    kind: str
    items: int
    seq: int


class AccountEmail(BaseModel):
    """An email to an explicit address, queued in the matcher's outbox (the bounds are the
    matcher's: a message the gateway builds too long fails here, not as a downstream 422)."""

    kind: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{0,39}$")]
    to: Annotated[str, StringConstraints(min_length=3, max_length=320)]
    subject: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    text: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
    html: Annotated[str, StringConstraints(min_length=1, max_length=50_000)]
    idempotency_key: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    recipient_id: uuid.UUID | None = None


class EmailQueued(BaseModel):
    delivery_id: uuid.UUID
