from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, model_validator

from convene_profiles.affiliations.schemas import AffiliationRead
from convene_profiles.answers.schemas import AnswerRead
from convene_profiles.badges.schemas import BadgeExport, BadgeRead
from convene_profiles.experience.schemas import ExperienceRead
from convene_profiles.imports.schemas import PastResponseRead
from convene_profiles.languages import ISO_639_1_CODES
from convene_profiles.ratings.schemas import RatingAggregate, RatingRead
from convene_profiles.roles.schemas import CitizenRoleRead
from convene_profiles.skills.schemas import SkillRead

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CitizenCreate(BaseModel):
    model_config = _STRICT

    id: UUID
    email: EmailStr
    display_name: str = Field(min_length=1, max_length=200)
    # The gateway registers citizens unverified; other writers (imports, demo) are trusted.
    email_verified: bool = True


class EmailVerificationUpdate(BaseModel):
    model_config = _STRICT

    verified: bool
    # A verified change of address: the new one replaces the old.
    email: EmailStr | None = None


class Place(BaseModel):
    """Where the citizen is: a local authority (ONS GSS code such as E08000003) and/or a
    postcode area or district (M, LS, M1), with an optional point."""

    model_config = _STRICT

    authority_code: str | None = Field(default=None, pattern=r"^[EWSN]\d{8}$")
    postcode_area: str | None = Field(default=None, pattern=r"^[A-Z]{1,2}(\d{1,2}[A-Z]?)?$")
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _point_is_whole(self) -> Place:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        return self


class Consent(BaseModel):
    model_config = _STRICT

    matching: bool
    contact: bool
    # The text of the citizen's rated contributions is matching evidence (default on).
    contributions_as_evidence: bool = True


class ConsentUpdate(BaseModel):
    """Any subset of the consents; a given one replaces the stored value."""

    model_config = _STRICT

    matching: bool | None = None
    contact: bool | None = None
    contributions_as_evidence: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> ConsentUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one consent")
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"consent.{name} cannot be null")
        return self


class UnavailablePeriod(BaseModel):
    model_config = _STRICT

    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> UnavailablePeriod:
        if self.start >= self.end:
            raise ValueError("an unavailable period must start before it ends")
        return self


class Availability(BaseModel):
    model_config = _STRICT

    max_invitations_per_month: int = Field(ge=0, le=100)
    hours_per_month: int = Field(ge=0, le=744)
    unavailable: list[UnavailablePeriod] = Field(default_factory=list, max_length=100)


class CitizenUpdate(BaseModel):
    """Any subset of fields; a field that is given replaces the stored value whole."""

    model_config = _STRICT

    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    # A short bio in the citizen's own words; "" clears it.
    bio: str | None = Field(default=None, max_length=1000)
    place: Place | None = None
    languages: list[str] | None = Field(default=None, max_length=50)
    access_needs: list[str] | None = Field(default=None, max_length=50)
    consent: ConsentUpdate | None = None
    availability: Availability | None = None

    @model_validator(mode="after")
    def _check(self) -> CitizenUpdate:
        if "display_name" in self.model_fields_set and self.display_name is None:
            raise ValueError("display_name cannot be null")
        for name in ("bio", "languages", "access_needs", "consent", "availability"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        if self.languages is not None:
            unknown = [code for code in self.languages if code not in ISO_639_1_CODES]
            if unknown:
                raise ValueError(
                    f"languages must be ISO 639-1 two-letter lower-case codes; not: {unknown[:5]}"
                )
            self.languages = list(dict.fromkeys(self.languages))
        if self.access_needs is not None:
            for need in self.access_needs:
                if not need.strip() or len(need) > 300:
                    raise ValueError("each access need is 1 to 300 characters")
        return self


class CitizenRead(BaseModel):
    id: UUID
    email: str
    display_name: str
    bio: str
    place: Place | None
    languages: list[str]
    access_needs: list[str]
    consent: Consent
    availability: Availability
    skills: list[SkillRead]
    roles: list[CitizenRoleRead]
    badges: list[BadgeRead]
    affiliations: list[AffiliationRead]
    experience: list[ExperienceRead]
    rating: RatingAggregate
    created_at: datetime
    updated_at: datetime


class CitizenList(BaseModel):
    items: list[CitizenRead]
    next_cursor: str | None


class CitizenExport(BaseModel):
    """Everything held about one citizen (GDPR access/portability)."""

    profile: CitizenRead
    skills: list[SkillRead]
    roles: list[CitizenRoleRead]
    badges: list[BadgeExport]
    affiliations: list[AffiliationRead]
    experience: list[ExperienceRead]
    ratings_received: list[RatingRead]
    # Imported past responses held for the citizen (pending, confirmed or declined) and the
    # answers they uploaded. Unclaimed rows are not theirs until they verify the address.
    past_responses: list[PastResponseRead] = Field(default_factory=list)
    answers: list[AnswerRead] = Field(default_factory=list)
    changes: list[dict[str, Any]]
    exported_at: datetime
