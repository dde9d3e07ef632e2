"""A citizen's evidence items as the matcher holds them (its ``GET /v1/citizens/{id}/evidence``),
over the MatcherClient's connection and error mapping."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from convene_gateway.clients.matcher import MatcherClient


class HeldItem(BaseModel):
    kind: str = Field(description="skill, badge, role, contribution or experience.")
    text: str = Field(
        description="The text matching compares with calls: for an experience entry, one "
        "passage of it (a long entry is held as several passages)."
    )
    source_id: str = Field(description="The profile entry it comes from ('bio' for the bio).")
    level: str | None = Field(default=None, description="A skill's self-rated level.")
    verified: bool | None = Field(default=None, description="A badge's verification.")
    private: bool = Field(
        default=False,
        description="You marked it not visible to public bodies: it still counts, and a "
        "body's explanation says 'private evidence' in its place.",
    )
    entry_kind: str | None = Field(default=None, description="An experience entry's kind.")
    title: str | None = Field(default=None, description="An experience entry's title.")
    role: str | None = None
    curated: bool | None = None
    rating: float | None = None
    expires_at: str | None = None


class HeldEvidence(BaseModel):
    held: bool = Field(description="False until the matcher has read your profile.")
    seq: int = Field(description="The change-feed position the matcher's copy reflects.")
    items: list[HeldItem]


async def held_evidence(matcher: MatcherClient, *, citizen_id: uuid.UUID) -> HeldEvidence:
    return await matcher._get(HeldEvidence, f"/v1/citizens/{citizen_id}/evidence")
