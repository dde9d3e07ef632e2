"""A citizen's evidence items as the matcher holds them (their own "what we use to match you")."""

from __future__ import annotations

from pydantic import BaseModel, Field


class HeldItem(BaseModel):
    kind: str = Field(description="skill, badge, role, contribution or experience")
    text: str = Field(
        description="The text the index holds a vector for (a passage for experience)."
    )
    source_id: str = Field(description="The profile entry it comes from ('bio' for the bio).")
    level: str | None = None
    verified: bool | None = None
    private: bool = Field(
        default=False, description="Used for matching; bodies see 'private evidence' instead."
    )
    entry_kind: str | None = Field(default=None, description="Experience: the entry's kind.")
    title: str | None = Field(default=None, description="Experience: the entry's title.")
    role: str | None = None
    curated: bool | None = None
    rating: float | None = None
    expires_at: str | None = None


class HeldEvidence(BaseModel):
    held: bool = Field(description="False until the matcher has read the citizen's profile.")
    seq: int = Field(description="The change-feed sequence the matcher's store reflects.")
    items: list[HeldItem]
