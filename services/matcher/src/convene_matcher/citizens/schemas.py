"""The profiles change feed as the matcher reads it (docs/internal-api.md, "Change feed").

Feed models ignore unknown fields: profiles may add fields without breaking the consumer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FeedModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Consent(FeedModel):
    matching: bool = False
    contact: bool = False


class UnavailablePeriod(FeedModel):
    start: datetime
    end: datetime


class Availability(FeedModel):
    max_invitations_per_month: int | None = None
    hours_per_month: float | None = None
    unavailable: list[UnavailablePeriod] = Field(default_factory=list)


class Place(FeedModel):
    authority_code: str | None = None
    postcode_area: str | None = None
    lat: float | None = None
    lon: float | None = None


class Skill(FeedModel):
    id: str
    label: str
    level: str
    code: str | None = None
    visible_to_bodies: bool = True


class Role(FeedModel):
    id: str
    role: str
    label: str | None = None
    curated: bool = False
    visible_to_bodies: bool = True


class Badge(FeedModel):
    id: str
    name: str
    description: str | None = None
    criteria: str | None = None
    issuer_name: str | None = None
    verified: bool = False
    # After it, the badge is still evidence but no longer earns the verified bonus.
    expires_at: datetime | None = None


class Affiliation(FeedModel):
    id: str
    organisation: str
    kind: str


class Contribution(FeedModel):
    """A rated contribution: its rating (the rating term) and, while the citizen consents to
    contributions as evidence, its text in their own words (evidence items)."""

    id: str
    # No longer evidence: a call's title is the body's words, not the citizen's.
    topic: str | None = None
    rating: float | None = None
    rated_at: datetime | None = None
    text: str | None = None
    # From a confidential or restricted call: counts for matching, never shown to a body.
    confidential: bool = False


class Experience(FeedModel):
    """An experience entry in the citizen's own words (``from``/``to`` are not used yet)."""

    id: str
    kind: str = "other"
    title: str
    description: str = ""
    organisation: str | None = None
    visible_to_bodies: bool = True


class PastResponse(FeedModel):
    """An imported past consultation response the citizen confirmed as evidence."""

    id: str
    source: str
    question: str = ""
    text: str
    rating: int | None = None
    responded_at: datetime | None = None


class Answer(FeedModel):
    """An answer the citizen gave on a question-and-answer site (their own upload)."""

    id: str
    site: str
    title: str
    text: str = ""
    score: int = 0
    accepted: bool = False
    answered_at: datetime | None = None


class RatingAggregate(FeedModel):
    score: float | None = None
    count: int = 0


class MatchSnapshot(FeedModel):
    """A citizen's whole matchable state after a change: the filter attributes routing uses."""

    citizen_id: str
    consent: Consent = Field(default_factory=Consent)
    availability: Availability = Field(default_factory=Availability)
    place: Place | None = None
    languages: list[str] = Field(default_factory=list)
    access_needs: list[str] = Field(default_factory=list)
    skills: list[Skill] = Field(default_factory=list)
    roles: list[Role] = Field(default_factory=list)
    badges: list[Badge] = Field(default_factory=list)
    affiliations: list[Affiliation] = Field(default_factory=list)
    contributions: list[Contribution] = Field(default_factory=list)
    rating: RatingAggregate = Field(default_factory=RatingAggregate)
    bio: str = ""
    experience: list[Experience] = Field(default_factory=list)
    past_responses: list[PastResponse] = Field(default_factory=list)
    answers: list[Answer] = Field(default_factory=list)


class Change(FeedModel):
    seq: int
    citizen_id: str
    kind: Literal["upsert", "erase"]
    occurred_at: datetime | None = None
    snapshot: MatchSnapshot | None = None


class ChangePage(FeedModel):
    items: list[Change]
    last_seq: int | None = None
    # The highest committed seq when profiles answered (for lag).
    head_seq: int | None = None
    # Filled by the matcher's client, never sent by profiles: seqs of changes in this page
    # that do not parse (logged; skipped, so one bad change cannot stall the feed).
    unparseable_seqs: list[int] = Field(default_factory=list)
