"""What profiles answers, as the gateway reads it (docs/internal-api.md).

Models accept fields they do not know (extra="allow") so profiles can grow without breaking
the gateway; the fields the gateway relies on are declared.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

ItemT = TypeVar("ItemT")


class ProfilesModel(BaseModel):
    model_config = ConfigDict(extra="allow")


class ItemList(ProfilesModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None = None


class PlaceRead(ProfilesModel):
    authority_code: str | None = None
    postcode_area: str | None = None
    lat: float | None = None
    lon: float | None = None


class ConsentRead(ProfilesModel):
    matching: bool | None = None
    contact: bool | None = None
    contributions_as_evidence: bool | None = None


class UnavailablePeriod(ProfilesModel):
    start: datetime
    end: datetime


class AvailabilityRead(ProfilesModel):
    max_invitations_per_month: int | None = None
    hours_per_month: float | None = None
    unavailable: list[UnavailablePeriod] = Field(default_factory=list)


class RatingAggregate(ProfilesModel):
    score: float | None = None
    count: int = 0


class SkillRead(ProfilesModel):
    id: uuid.UUID
    label: str
    level: str
    code: str | None = None
    visible_to_bodies: bool = True
    created_at: datetime | None = None


class RoleRead(ProfilesModel):
    id: uuid.UUID
    role: str
    label: str | None = None
    curated: bool | None = None
    visible_to_bodies: bool = True


class AffiliationRead(ProfilesModel):
    id: uuid.UUID
    organisation: str
    kind: str
    created_at: datetime | None = None


class BadgeRead(ProfilesModel):
    id: uuid.UUID
    format: str | None = None
    name: str | None = None
    description: str | None = None
    issuer_name: str | None = None
    verified: bool | None = None


class ExperienceRead(ProfilesModel):
    """An experience entry in the citizen's own words."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: uuid.UUID
    kind: str
    title: str
    description: str = ""
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    organisation: str | None = None
    visible_to_bodies: bool = True
    created_at: datetime | None = None
    updated_at: datetime | None = None


class CitizenRead(ProfilesModel):
    id: uuid.UUID
    email: str
    display_name: str
    bio: str = ""
    place: PlaceRead | None = None
    languages: list[str] = Field(default_factory=list)
    access_needs: list[str] = Field(default_factory=list)
    consent: ConsentRead | None = None
    availability: AvailabilityRead | None = None
    skills: list[SkillRead] = Field(default_factory=list)
    roles: list[RoleRead] = Field(default_factory=list)
    badges: list[BadgeRead] = Field(default_factory=list)
    affiliations: list[AffiliationRead] = Field(default_factory=list)
    experience: list[ExperienceRead] = Field(default_factory=list)
    rating: RatingAggregate | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class CuratedRoleRead(ProfilesModel):
    slug: str
    label: str
    description: str | None = None


class BadgeIssuerRead(ProfilesModel):
    id: str
    name: str
    public_key_jwk: dict[str, Any] | None = None


class ChangeRead(ProfilesModel):
    seq: int
    citizen_id: uuid.UUID
    kind: str
    occurred_at: datetime
    snapshot: dict[str, Any] | None = None


class ChangePage(ProfilesModel):
    items: list[ChangeRead]
    last_seq: int | None = None


# -- imports of past consultation responses and uploaded answers (issue 12) ---------------
class RejectedRowRead(ProfilesModel):
    line: int = Field(description="1-based line of the file (JSON answers: position).")
    reason: str


class ImportAccepted(ProfilesModel):
    id: uuid.UUID
    status: str = Field(description="queued | running | succeeded | failed")
    progress_percent: int


class ImportRead(ProfilesModel):
    id: uuid.UUID
    status: str = Field(description="queued | running | succeeded | failed")
    progress_percent: int
    format: str
    source_body_id: uuid.UUID | None = None
    rows: int = Field(description="Rows read so far (all of them once finished).")
    imported: int = Field(description="New rows stored: pending_confirmation + unclaimed.")
    pending_confirmation: int = Field(
        description="New rows for verified citizens' addresses: waiting for their yes."
    )
    unclaimed: int = Field(
        default=0, description="New rows for addresses nobody verified: sealed until then."
    )
    duplicates: int = Field(default=0, description="Rows already stored (same source, id).")
    rejected_count: int = 0
    rejected: list[RejectedRowRead] = Field(
        description="Rejected rows by line with the reason (the first 1,000)."
    )
    error: str | None = None
    file_bytes: int = 0
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


class PastResponseRead(ProfilesModel):
    id: uuid.UUID
    source: str
    status: str = Field(description="pending | confirmed | declined")
    responded_at: datetime
    question: str | None = None
    response_text: str | None = None
    rating: int | None = None
    imported_at: datetime
    decided_at: datetime | None = None


class SourceCount(ProfilesModel):
    source: str
    count: int


class CitizenImportsRead(ProfilesModel):
    pending_count: int
    pending_by_source: list[SourceCount]
    items: list[PastResponseRead]


class ImportDecisionRead(ProfilesModel):
    changed: int


class AnswersImportedRead(ProfilesModel):
    imported: int
    duplicates: int
    rejected: list[RejectedRowRead]
    total_answers: int


class AnswerRead(ProfilesModel):
    id: uuid.UUID
    site: str
    question_title: str
    answer_text: str
    answered_at: datetime | None = None
    score: int
    accepted: bool
    created_at: datetime
