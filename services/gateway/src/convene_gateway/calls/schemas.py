"""What a public body posts to ask for expertise, and what it reads back.

The gateway checks every field's shape, length and list size itself, so the OpenAPI document
is precise and nothing oversized reaches the matcher. Checks across fields and against the
matcher's state (no text, min > max, quotas above the panel size, a radius without a point,
a role nobody holds, a past deadline) are the matcher's, and its 422 passes through naming the
field. Responses are the matcher's answers read through declared models
(convene_gateway.clients.matcher_schemas): undeclared fields never reach a public body.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from convene_gateway.clients.matcher_schemas import (
    CallCancelledRead,
    CallPage,
    CallRead,
    CandidateRead,
    MatchResult,
    PanelMemberRead,
    UnmetRead,
)

__all__ = [
    "MAX_PANEL_SIZE",
    "CallCancel",
    "CallCancelledRead",
    "CallCreate",
    "CallPage",
    "CallRead",
    "CallUpdate",
    "CandidateRead",
    "MatchRequest",
    "MatchResult",
    "PanelMemberRead",
    "UnmetRead",
]

MAX_PANEL_SIZE = 500

Text = Annotated[str, StringConstraints(max_length=20_000)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Question = Annotated[str, StringConstraints(min_length=1, max_length=2_000)]
Language = Annotated[str, StringConstraints(to_lower=True, pattern=r"^[A-Za-z]{2}$")]
AuthorityCode = Annotated[str, StringConstraints(pattern=r"^[EWSN]\d{8}$")]


class SkillWanted(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: ShortText = Field(examples=["urban planning"])
    code: ShortText | None = Field(default=None, description="e.g. an ESCO skill URI")


class Perspective(BaseModel):
    """A wanted role (a curated slug such as `cab-driver`, or its label) with a quota: at
    least `min` and at most `max` panel members hold it."""

    model_config = ConfigDict(extra="forbid")

    role: ShortText = Field(examples=["cyclist"])
    min: int = Field(default=0, ge=0, le=MAX_PANEL_SIZE)
    max: int = Field(default=MAX_PANEL_SIZE, ge=0, le=MAX_PANEL_SIZE)


class CallPlace(BaseModel):
    """An authority (`authority_code`, an ONS GSS code) and/or a circle (`lat`, `lon`,
    `radius_km`)."""

    model_config = ConfigDict(extra="forbid")

    authority_code: AuthorityCode | None = Field(default=None, examples=["E08000003"])
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    radius_km: float | None = Field(default=None, gt=0, le=20_000)


class CallCreate(BaseModel):
    """A call for expertise. It needs a title or a description."""

    model_config = ConfigDict(extra="forbid")

    title: Text = ""
    description: Text = ""
    questions: list[Question] = Field(default_factory=list, max_length=50)
    skills: list[SkillWanted] = Field(default_factory=list, max_length=100)
    perspectives: list[Perspective] = Field(default_factory=list, max_length=50)
    place: CallPlace | None = None
    languages: list[Language] = Field(
        default_factory=list, max_length=20, description="ISO 639-1 codes"
    )
    access_offered: list[ShortText] = Field(default_factory=list, max_length=50)
    hours: float | None = Field(default=None, gt=0, le=1_000, description="Time asked, in hours")
    deadline: AwareDatetime = Field(description="RFC 3339 with a zone, in the future")
    panel_size: int = Field(ge=1, le=MAX_PANEL_SIZE)
    conflicts: list[ShortText] = Field(
        default_factory=list,
        max_length=200,
        description="Organisations whose staff or interests must not sit on the panel "
        "(e.g. bidders in a live procurement).",
    )
    confidentiality: Literal["public", "restricted", "confidential"] = "public"


class CallUpdate(BaseModel):
    """A change to an open call; only what is given changes. Once invitations exist the
    deadline may only move later, and invitees are told of it."""

    model_config = ConfigDict(extra="forbid")

    title: Text | None = None
    description: Text | None = None
    questions: list[Question] | None = Field(default=None, max_length=50)
    deadline: AwareDatetime | None = None
    panel_size: int | None = Field(default=None, ge=1, le=MAX_PANEL_SIZE)
    perspectives: list[Perspective] | None = Field(default=None, max_length=50)


class CallCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)
    ] = Field(description="Why the call is cancelled (kept with the call)")


class MatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Strict: JSON true/false are not seeds (lax mode would read them as 1/0).
    seed: int | None = Field(
        default=None,
        strict=True,
        ge=0,
        le=2**63 - 1,
        description="Reproducible tie-breaks among near-equal candidates.",
    )
