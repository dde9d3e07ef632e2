from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class SkillLevel(StrEnum):
    want_to_learn = "want_to_learn"
    can_explain = "can_explain"
    can_connect = "can_connect"
    can_do = "can_do"


class SkillCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    label: str = Field(min_length=1, max_length=200)
    level: SkillLevel
    # A taxonomy code, e.g. an ESCO skill URI.
    code: str | None = Field(default=None, min_length=1, max_length=500)


class SkillRead(BaseModel):
    id: UUID
    label: str
    level: SkillLevel
    code: str | None
    created_at: datetime


class SkillList(BaseModel):
    items: list[SkillRead]
    next_cursor: str | None = None
