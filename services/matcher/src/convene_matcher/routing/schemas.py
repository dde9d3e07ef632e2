"""Match request and result: pseudonymous, explained candidates and a panel."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field


class MatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Reproducible tie-breaks among near-equal candidates; without it the call id is used.
    seed: int | None = Field(default=None, strict=True, ge=0, le=2**63 - 1)


class EvidenceRead(BaseModel):
    kind: str
    text: str
    similarity: float
    verified: bool | None = None
    level: str | None = None
    # Imported records: "answered on <site>", "response to a <source> consultation".
    source: str | None = None


class Adjustments(BaseModel):
    """The score's parts: score = similarity + verified_badges + rating + track_record +
    locality + exposure."""

    similarity: float
    verified_badges: float
    rating: float
    locality: float
    exposure: float
    track_record: float = Field(
        default=0.0,
        description=(
            "How much the citizen has done and said in the call's area: their evidence items "
            "on the call's topic, ln-scaled (MatchingConfig.track_record_weight)."
        ),
    )
    not_my_expertise: float = Field(
        default=0.0,
        description=(
            "Part of similarity (already included in it, <= 0): what the citizen's own "
            "'not my expertise' declines took off (x0.7 per decline of that evidence, up to 3)."
        ),
    )


class CandidateRead(BaseModel):
    ref: str
    score: float
    evidence: list[EvidenceRead]
    adjustments: Adjustments
    roles: list[str] = Field(description="The call's wanted roles this candidate holds.")


class PanelMember(BaseModel):
    ref: str
    fills: list[str] = Field(description="Quota roles filled, or ['relevance'].")


class Unmet(BaseModel):
    role: str
    wanted: int
    found: int
    reason: str


class PanelNeed(BaseModel):
    """An access need of panel members, counted (nobody named): for the body to arrange."""

    need: str
    members: int
    summary: str = Field(description='e.g. "2 members need step-free access".')


class MatchStats(BaseModel):
    """Counts only (no one is identifiable from them)."""

    retrieved: int
    role_holders: int
    eligible: int
    filtered: dict[str, int]
    panel_method: str


class MatchResult(BaseModel):
    call_id: uuid.UUID
    candidates: list[CandidateRead]
    panel: list[PanelMember]
    unmet: list[Unmet]
    panel_needs: list[PanelNeed] = Field(
        default_factory=list,
        description=(
            "What the panel needs to take part: each access need of its members with how "
            "many need it. Access needs never keep anyone off a panel unless the call lists "
            "them in access_not_offered."
        ),
    )
    stats: MatchStats
    config_id: int | None = Field(
        default=None,
        description="The active matching configuration that ranked it (read per request, so "
        "an activation on any replica applies to the next match everywhere).",
    )
