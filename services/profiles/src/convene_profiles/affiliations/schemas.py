from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class AffiliationKind(StrEnum):
    employer = "employer"
    board = "board"
    commercial_interest = "commercial_interest"
    other = "other"


class AffiliationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    organisation: str = Field(min_length=1, max_length=300)
    kind: AffiliationKind


class AffiliationRead(BaseModel):
    id: UUID
    organisation: str
    kind: AffiliationKind
    created_at: datetime


class AffiliationList(BaseModel):
    items: list[AffiliationRead]
    next_cursor: str | None = None
