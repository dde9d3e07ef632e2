from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from convene_profiles.affiliations.schemas import AffiliationKind
from convene_profiles.skills.schemas import SkillLevel


class SnapshotConsent(BaseModel):
    matching: bool
    contact: bool


class SnapshotPeriod(BaseModel):
    start: datetime
    end: datetime


class SnapshotAvailability(BaseModel):
    max_invitations_per_month: int
    hours_per_month: int
    unavailable: list[SnapshotPeriod]


class SnapshotPlace(BaseModel):
    authority_code: str | None
    postcode_area: str | None
    lat: float | None
    lon: float | None


class SnapshotSkill(BaseModel):
    id: UUID
    label: str
    level: SkillLevel
    code: str | None
    visible_to_bodies: bool = True


class SnapshotRole(BaseModel):
    id: UUID
    role: str
    label: str
    curated: bool
    visible_to_bodies: bool = True


class SnapshotBadge(BaseModel):
    id: UUID
    name: str
    description: str
    criteria: str | None
    issuer_name: str | None
    verified: bool
    # The matcher drops the verified bonus from this instant (no re-import needed).
    expires_at: datetime | None = None


class SnapshotAffiliation(BaseModel):
    id: UUID
    organisation: str
    kind: AffiliationKind


class SnapshotContribution(BaseModel):
    id: UUID
    # Kept for the feed's shape; always null now: a call's title is never evidence.
    topic: str | None
    rating: int
    rated_at: datetime
    # The rated contribution in the citizen's own words (null without their consent).
    text: str | None = None
    # From a confidential or restricted call: counts for matching, never shown to a body.
    confidential: bool = False


class SnapshotExperience(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: UUID
    kind: str
    title: str
    description: str
    organisation: str | None
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    visible_to_bodies: bool = True


class SnapshotPastResponse(BaseModel):
    id: UUID
    source: str
    question: str
    text: str
    rating: int | None
    responded_at: datetime


class SnapshotAnswer(BaseModel):
    id: UUID
    site: str
    title: str
    text: str
    score: int
    accepted: bool
    answered_at: datetime | None


class SnapshotRating(BaseModel):
    score: float | None
    count: int


class MatchSnapshot(BaseModel):
    """A citizen's whole matchable state; no names or emails."""

    citizen_id: UUID
    consent: SnapshotConsent
    availability: SnapshotAvailability
    place: SnapshotPlace | None
    languages: list[str]
    access_needs: list[str]
    skills: list[SnapshotSkill]
    roles: list[SnapshotRole]
    badges: list[SnapshotBadge]
    affiliations: list[SnapshotAffiliation]
    contributions: list[SnapshotContribution]
    rating: SnapshotRating
    # Experience in the citizen's own words; the matcher splits long texts into passages.
    bio: str = ""
    experience: list[SnapshotExperience] = Field(default_factory=list)
    # Imported past consultation responses the citizen confirmed, and their uploaded answers
    # from question-and-answer sites (issue 12).
    past_responses: list[SnapshotPastResponse] = Field(default_factory=list)
    answers: list[SnapshotAnswer] = Field(default_factory=list)


class ChangeRead(BaseModel):
    seq: int
    citizen_id: UUID
    kind: Literal["upsert", "erase"]
    occurred_at: datetime
    snapshot: MatchSnapshot | None


class ChangeList(BaseModel):
    items: list[ChangeRead]
    # The seq to pass as `after` next time: the last item's seq, or `after` when empty.
    last_seq: int
    # The highest committed seq at the time of the read (for lag monitoring).
    head_seq: int
