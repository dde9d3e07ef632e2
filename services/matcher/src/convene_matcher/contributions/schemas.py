"""Contributions as the citizen writes them and the body reads them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_ANSWER_CHARS = 10_000
MAX_ANSWERS = 50  # a call has at most 50 questions

AnswerText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ANSWER_CHARS)
]
QuestionText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)
]


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: QuestionText = Field(description="One of the call's questions, as it asks it.")
    text: AnswerText


class ContributionWrite(BaseModel):
    """Create or replace: the answers given replace the stored ones whole."""

    model_config = ConfigDict(extra="forbid")

    answers: list[Answer] = Field(default_factory=list, max_length=MAX_ANSWERS)
    comment: (
        Annotated[
            str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ANSWER_CHARS)
        ]
        | None
    ) = None


class ContributionRead(BaseModel):
    """The citizen's own contribution."""

    invitation_id: uuid.UUID
    call_id: uuid.UUID
    answers: list[Answer]
    comment: str | None
    submitted_at: datetime
    updated_at: datetime | None
    rated: bool = Field(description="Rated by the body: it can no longer change.")
    editable: bool = Field(description="Open call, before its deadline, not yet rated.")


class BodyContribution(BaseModel):
    """A contribution as its call's body reads it, under the pseudonymous ref.

    ``contact_citizen_id`` lets the gateway add name and email (when the citizen consents to
    contact); the gateway never forwards it."""

    ref: str
    answers: list[Answer]
    comment: str | None
    submitted_at: datetime
    updated_at: datetime | None
    rating: int | None = None
    contact_citizen_id: uuid.UUID | None = None


class BodyContributionList(BaseModel):
    items: list[BodyContribution]
