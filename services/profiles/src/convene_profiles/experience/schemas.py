from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

TITLE_MAX = 200
DESCRIPTION_MAX = 4000
ORGANISATION_MAX = 200


class ExperienceKind(StrEnum):
    work = "work"
    volunteering = "volunteering"
    lived_experience = "lived_experience"
    study = "study"
    campaign = "campaign"
    other = "other"


def _check_order(started: date | None, ended: date | None) -> None:
    if started is not None and ended is not None and started > ended:
        raise ValueError("'from' must not be after 'to'")


class ExperienceCreate(BaseModel):
    """An entry in the citizen's own words; ``from``/``to`` are dates (either may be absent)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    kind: ExperienceKind
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    organisation: str | None = Field(default=None, min_length=1, max_length=ORGANISATION_MAX)
    # False: "use for matching but do not show to public bodies" (it still counts; a body's
    # explanation says "private evidence" in its place).
    visible_to_bodies: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> ExperienceCreate:
        _check_order(self.from_, self.to)
        return self


class ExperienceUpdate(BaseModel):
    """Any subset; a given field replaces the stored value. ``from``, ``to`` and
    ``organisation`` may be null (cleared); the others may not."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    kind: ExperienceKind | None = None
    title: str | None = Field(default=None, min_length=1, max_length=TITLE_MAX)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX)
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    organisation: str | None = Field(default=None, min_length=1, max_length=ORGANISATION_MAX)
    visible_to_bodies: bool | None = None

    @model_validator(mode="after")
    def _check(self) -> ExperienceUpdate:
        for name in ("kind", "title", "description", "visible_to_bodies"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        _check_order(self.from_, self.to)
        return self


class ExperienceRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: UUID
    kind: ExperienceKind
    title: str
    description: str
    from_: date | None = Field(alias="from")
    to: date | None
    organisation: str | None
    visible_to_bodies: bool = True
    created_at: datetime
    updated_at: datetime


class ExperienceList(BaseModel):
    items: list[ExperienceRead]
    next_cursor: str | None = None
