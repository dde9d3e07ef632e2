from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class RoleCreate(BaseModel):
    """A curated lived-experience or stakeholder role (admin curation)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    slug: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)
    label: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)


class RoleRead(BaseModel):
    slug: str
    label: str
    description: str


class RoleList(BaseModel):
    items: list[RoleRead]
    next_cursor: str | None = None


class CitizenRoleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # A curated slug, or free text describing the citizen's own role.
    role: str = Field(min_length=1, max_length=200)
    # False: "use for matching but do not show to public bodies" (it still counts; a body's
    # explanation says "private evidence" in its place).
    visible_to_bodies: bool = True


class CitizenRoleRead(BaseModel):
    id: UUID
    role: str
    label: str
    curated: bool
    visible_to_bodies: bool = True
    created_at: datetime


class CitizenRoleList(BaseModel):
    items: list[CitizenRoleRead]
    next_cursor: str | None = None
