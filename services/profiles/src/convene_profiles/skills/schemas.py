from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from urllib.parse import urlsplit
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


class SkillLevel(StrEnum):
    want_to_learn = "want_to_learn"
    can_explain = "can_explain"
    can_connect = "can_connect"
    can_do = "can_do"


MAX_SKILL_CODE = 300


def _skill_code(value: str) -> str:
    parsed = urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or " " in value:
        raise ValueError("a skill code is an http(s) URI, e.g. an ESCO skill URI")
    return value


class SkillCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    label: str = Field(min_length=1, max_length=200)
    level: SkillLevel
    # A taxonomy code: an http(s) URI such as an ESCO skill URI (real ones are longer than
    # the 64 characters once allowed).
    code: Annotated[str, AfterValidator(_skill_code)] | None = Field(
        default=None, min_length=1, max_length=MAX_SKILL_CODE
    )
    # False: "use for matching but do not show to public bodies" (it still counts; a body's
    # explanation says "private evidence" in its place).
    visible_to_bodies: bool = True


class SkillRead(BaseModel):
    id: UUID
    label: str
    level: SkillLevel
    code: str | None
    visible_to_bodies: bool = True
    created_at: datetime


class SkillList(BaseModel):
    items: list[SkillRead]
    next_cursor: str | None = None
