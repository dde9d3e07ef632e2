from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel

from convene_profiles.imports.schemas import RejectedRow


class AnswerRead(BaseModel):
    id: UUID
    site: str
    question_title: str
    answer_text: str
    answered_at: datetime | None
    score: int
    accepted: bool
    created_at: datetime


class AnswersImported(BaseModel):
    """What an upload did: new answers stored, answers already stored, and rejected ones by
    their number (JSON: position in the array; CSV: line)."""

    imported: int
    duplicates: int
    rejected: list[RejectedRow]
    total_answers: int


class AnswerList(BaseModel):
    items: list[AnswerRead]
    next_cursor: str | None = None
