"""What citizens send the gateway. Validated here, before any call reaches profiles."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

from convene_gateway.citizens.languages import ISO_639_1_CODES

_STRICT = ConfigDict(extra="forbid")


def _email_address(value: str) -> str:
    """The same rule profiles applies (email-validator, no deliverability lookup), so an
    address the gateway accepts is never refused downstream. Reserved special-use domains
    such as *.invalid are refused; demos and tests use *.example (RFC 2606)."""
    try:
        validated = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"value is not a valid email address: {exc}") from exc
    return str(validated.normalized)


EmailAddress = Annotated[str, AfterValidator(_email_address)]

SkillLevel = Literal["want_to_learn", "can_explain", "can_connect", "can_do"]
AffiliationKind = Literal["employer", "board", "commercial_interest", "other"]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]


MAX_SKILL_CODE = 300


def _skill_code(value: str) -> str:
    parsed = urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or " " in value:
        raise ValueError("a skill code is an http(s) URI, e.g. an ESCO skill URI")
    return value


SkillCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_SKILL_CODE),
    AfterValidator(_skill_code),
]


class CitizenRegister(BaseModel):
    model_config = _STRICT

    email: EmailAddress
    # Not stripped: a password is taken exactly as typed.
    password: Annotated[str, StringConstraints(strip_whitespace=False)] = Field(
        min_length=10, max_length=128
    )
    display_name: ShortText


class CitizenCreated(BaseModel):
    id: uuid.UUID
    email: str
    display_name: str


class Place(BaseModel):
    """A local authority (ONS GSS code, e.g. E08000003) and/or a point, and a postcode area."""

    model_config = _STRICT

    authority_code: str | None = Field(default=None, pattern=r"^[EWSN]\d{8}$")
    postcode_area: str | None = Field(default=None, pattern=r"^[A-Z]{1,2}(\d{1,2}[A-Z]?)?$")
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _located(self) -> Place:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        if self.authority_code is None and self.lat is None:
            raise ValueError("give authority_code, or lat and lon, or both")
        return self


class Consent(BaseModel):
    """Any subset of your consents; each one given replaces the stored value."""

    model_config = _STRICT

    matching: bool | None = Field(default=None, description="Be matched to calls.")
    contact: bool | None = Field(
        default=None, description="Show your name and email to a body whose invitation you accept."
    )
    contributions_as_evidence: bool | None = Field(
        default=None,
        description=(
            "Use the text of your rated contributions as evidence of your expertise (on by "
            "default); turning it off removes that evidence."
        ),
    )

    @model_validator(mode="after")
    def _something(self) -> Consent:
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

    display_name: ShortText | None = None
    bio: str | None = Field(
        default=None, max_length=1000, description="A short bio in your own words; '' clears it."
    )
    place: Place | None = None
    languages: list[str] | None = Field(default=None, max_length=50)
    access_needs: list[Annotated[str, StringConstraints(min_length=1, max_length=300)]] | None = (
        Field(default=None, max_length=50)
    )
    consent: Consent | None = None
    availability: Availability | None = None

    @model_validator(mode="after")
    def _check(self) -> CitizenUpdate:
        for name in ("display_name", "bio", "languages", "access_needs", "consent", "availability"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        if self.languages is not None:
            unknown = [code for code in self.languages if code not in ISO_639_1_CODES]
            if unknown:
                raise ValueError(
                    f"languages must be ISO 639-1 two-letter lower-case codes; not: {unknown[:5]}"
                )
            self.languages = list(dict.fromkeys(self.languages))
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)


class SkillCreate(BaseModel):
    model_config = _STRICT

    label: ShortText
    level: SkillLevel
    code: SkillCode | None = Field(
        default=None,
        description=(
            "A taxonomy URI, e.g. an ESCO skill "
            "(http://data.europa.eu/esco/skill/<uuid>): an http(s) URI of at most 300 "
            "characters. A call wanting the same code counts it in relevance."
        ),
        examples=["http://data.europa.eu/esco/skill/0f7e2a3c-3b5e-4c8b-9d61-2c1f5a8e7b90"],
    )
    visible_to_bodies: StrictBool = Field(
        default=True,
        description="False: use for matching but do not show to public bodies (it still "
        "counts; a body's explanation says 'private evidence' in its place).",
    )


class RoleCreate(BaseModel):
    model_config = _STRICT

    role: ShortText = Field(description="A curated role slug (GET /v1/roles) or free text.")
    visible_to_bodies: StrictBool = Field(
        default=True,
        description="False: use for matching but do not show to public bodies (it still "
        "counts; a body's explanation says 'private evidence' in its place).",
    )


ExperienceKind = Literal["work", "volunteering", "lived_experience", "study", "campaign", "other"]
ExperienceTitle = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
ExperienceText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]


def _iso_date_only(value: object) -> object:
    """A date is sent as an ISO 8601 string ("2019-04-01"): a number is refused, not read as
    a Unix timestamp (pydantic's lax mode would take 0 as 1970-01-01)."""
    if value is not None and not isinstance(value, (str, date)):
        raise ValueError("give the date as YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]


def _dates_ordered(started: date | None, ended: date | None) -> None:
    if started is not None and ended is not None and started > ended:
        raise ValueError("'from' must not be after 'to'")


class ExperienceCreate(BaseModel):
    """An experience entry in your own words. Long descriptions are split into passages for
    matching; the passage that matched is what explanations show."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kind: ExperienceKind
    title: ExperienceTitle
    description: ExperienceText = ""
    from_: IsoDate | None = Field(default=None, alias="from")
    to: IsoDate | None = None
    organisation: ShortText | None = None
    visible_to_bodies: StrictBool = Field(
        default=True,
        description="False: use for matching but do not show to public bodies (it still "
        "counts; a body's explanation says 'private evidence' in its place).",
    )

    @model_validator(mode="after")
    def _ordered(self) -> ExperienceCreate:
        _dates_ordered(self.from_, self.to)
        return self

    def payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class ExperienceUpdate(BaseModel):
    """Any subset; ``from``, ``to`` and ``organisation`` may be null (cleared)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kind: ExperienceKind | None = None
    title: ExperienceTitle | None = None
    description: ExperienceText | None = None
    from_: IsoDate | None = Field(default=None, alias="from")
    to: IsoDate | None = None
    organisation: ShortText | None = None
    visible_to_bodies: StrictBool | None = None

    @model_validator(mode="after")
    def _check(self) -> ExperienceUpdate:
        for name in ("kind", "title", "description", "visible_to_bodies"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        _dates_ordered(self.from_, self.to)
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class AffiliationCreate(BaseModel):
    model_config = _STRICT

    organisation: ShortText
    kind: AffiliationKind


class BadgeCreate(BaseModel):
    """An Open Badges 2.0 assertion (JSON, or a signed JWS string) or a 3.0 VC-JWT."""

    model_config = ConfigDict(extra="forbid")

    assertion: (
        dict[str, Any] | Annotated[str, StringConstraints(min_length=1, max_length=32768)] | None
    ) = None
    credential: Annotated[str, StringConstraints(min_length=1, max_length=32768)] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> BadgeCreate:
        if (self.assertion is None) == (self.credential is None):
            raise ValueError("give exactly one of assertion or credential")
        return self

    def payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class AccountExport(BaseModel):
    """The gateway's own record of the citizen: never the password hash."""

    id: uuid.UUID
    kind: str
    email: str
    citizen_id: uuid.UUID | None
    created_at: datetime
    disabled_at: datetime | None


class CitizenExport(BaseModel):
    account: AccountExport
    profile: dict[str, Any] = Field(description="Everything profiles holds (its export).")
    matcher: dict[str, Any] | None = Field(
        description="Everything the matcher holds: invitations (messages, answers, decline "
        "reasons, hours, evidence shown, ratings, outcomes), matches with their "
        "explanations, exposure, feedback, outcome labels and emails. Null only when the "
        "matcher could not be reached (then ``incomplete`` names it)."
    )
    incomplete: list[str] = Field(
        default_factory=list,
        description="Parts that could not be read this time (ask again); empty when complete.",
    )
    exported_at: datetime
