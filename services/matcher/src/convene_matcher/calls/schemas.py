"""Calls for expertise: what the gateway posts on a public body's behalf, and what it reads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Language = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z]{2}$")
]
Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]

MAX_PANEL_SIZE = 500


class SkillWanted(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: ShortText
    code: ShortText | None = None


class Perspective(BaseModel):
    """A wanted role with a quota: at least ``min`` and at most ``max`` panel members."""

    model_config = ConfigDict(extra="forbid")

    role: ShortText
    min: int = Field(default=0, ge=0, le=MAX_PANEL_SIZE)
    max: int = Field(default=MAX_PANEL_SIZE, ge=0, le=MAX_PANEL_SIZE)


class CallPlace(BaseModel):
    """An authority (``authority_code``) and/or a circle (``lat``, ``lon``, ``radius_km``)."""

    model_config = ConfigDict(extra="forbid")

    authority_code: ShortText | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    radius_km: float | None = Field(default=None, gt=0, le=20_000)


class CallCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Internal fields: set by the gateway from the authenticated public body.
    public_body_id: uuid.UUID
    public_body_name: ShortText
    # Who posts it: account:<id> (a staff member) or api_key:<id>.
    created_by: Annotated[str, StringConstraints(max_length=100)] | None = None

    title: Text = ""
    description: Text = ""
    questions: list[Question] = Field(default_factory=list, max_length=50)
    skills: list[SkillWanted] = Field(default_factory=list, max_length=100)
    perspectives: list[Perspective] = Field(default_factory=list, max_length=50)
    place: CallPlace | None = None
    languages: list[Language] = Field(default_factory=list, max_length=20)
    access_offered: list[ShortText] = Field(default_factory=list, max_length=50)
    hours: float | None = Field(default=None, gt=0, le=1_000)
    deadline: datetime
    panel_size: int = Field(ge=1, le=MAX_PANEL_SIZE)
    conflicts: list[ShortText] = Field(default_factory=list, max_length=200)
    confidentiality: Literal["public", "restricted", "confidential"] = "public"

    @field_validator("deadline")
    @classmethod
    def _deadline_has_zone(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("deadline needs a time zone (RFC 3339)")
        return value


class CallRead(BaseModel):
    id: uuid.UUID
    public_body_id: uuid.UUID
    public_body_name: str
    title: str
    description: str
    questions: list[str]
    skills: list[SkillWanted]
    perspectives: list[Perspective]
    place: CallPlace | None
    languages: list[str]
    access_offered: list[str]
    hours: float | None
    deadline: datetime
    panel_size: int
    conflicts: list[str]
    confidentiality: str
    status: str
    created_at: datetime
    created_by: str | None = None
    updated_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None


class CallPage(BaseModel):
    items: list[CallRead]
    next_cursor: str | None


class CallUpdate(BaseModel):
    """A change to an open call. Once invitations exist the deadline may only move later."""

    model_config = ConfigDict(extra="forbid")

    title: Text | None = None
    description: Text | None = None
    questions: list[Question] | None = Field(default=None, max_length=50)
    deadline: datetime | None = None
    panel_size: int | None = Field(default=None, ge=1, le=MAX_PANEL_SIZE)
    perspectives: list[Perspective] | None = Field(default=None, max_length=50)

    @field_validator("deadline")
    @classmethod
    def _deadline_has_zone(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("deadline needs a time zone (RFC 3339)")
        return value


class CallCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class CallCancelled(CallRead):
    withdrawn: int = Field(description="pending invitations withdrawn (their invitees told)")
