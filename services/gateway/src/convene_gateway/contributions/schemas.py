"""Public shapes of contributions (and the matcher answers they are built from)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from convene_gateway.invitations.schemas import Contact

MAX_ANSWER_CHARS = 10_000


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: Annotated[str, StringConstraints(min_length=1, max_length=2_000)] = Field(
        description="One of the call's questions, exactly as the call asks it."
    )
    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_ANSWER_CHARS)] = Field(
        description="Your answer, at most 10,000 characters."
    )


class ContributionWrite(BaseModel):
    """Create or replace: the answers given replace the stored ones whole."""

    model_config = ConfigDict(extra="forbid")

    answers: list[Answer] = Field(default_factory=list, max_length=50)
    comment: Annotated[str, StringConstraints(min_length=1, max_length=MAX_ANSWER_CHARS)] | None = (
        Field(default=None, description="A general comment, at most 10,000 characters.")
    )


class ContributionRead(BaseModel):
    invitation_id: uuid.UUID
    call_id: uuid.UUID
    answers: list[Answer]
    comment: str | None
    submitted_at: datetime
    updated_at: datetime | None
    rated: bool = Field(description="Rated by the body: it can no longer change.")
    editable: bool = Field(description="Open call, before its deadline, not yet rated.")


class _BodyContribution(BaseModel):
    ref: str
    answers: list[Answer]
    comment: str | None
    submitted_at: datetime
    updated_at: datetime | None = None
    rating: int | None = None


class MatcherBodyContribution(_BodyContribution):
    contact_citizen_id: uuid.UUID | None = None


class MatcherBodyContributionList(BaseModel):
    items: list[MatcherBodyContribution]


class BodyContribution(_BodyContribution):
    contact: Contact | None = Field(
        default=None, description="Only when the citizen accepted and consents to contact."
    )


class BodyContributionList(BaseModel):
    items: list[BodyContribution]
