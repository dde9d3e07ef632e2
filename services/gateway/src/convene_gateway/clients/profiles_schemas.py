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
