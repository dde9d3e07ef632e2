"""Admin access to the matcher: the affinity contract of the gold-standard benchmark.

Contract (../shared/benchmarks/goldstandard/README.md): one researcher's evidence papers and
candidate texts in, one score per candidate out, same order, deterministic.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from convene_gateway.clients.matcher_schemas import AffinityResult, IndexStatus, RebuildResult

__all__ = ["AffinityRequest", "AffinityResult", "IndexStatus", "Paper", "RebuildResult"]

MAX_PAPERS = 200
MAX_TEXT = 20_000


class Paper(BaseModel):
    """An evidence text (a paper) or a candidate text (a call): `text`, or title + abstract."""

    # The benchmark harness sends keys such as "year": ignored (and not forwarded), not refused.
    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=200)
    title: str = Field(default="", max_length=MAX_TEXT)
    abstract: str = Field(default="", max_length=MAX_TEXT)
    text: str | None = Field(default=None, max_length=MAX_TEXT)


class Researcher(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200)
    papers: list[Paper] = Field(max_length=MAX_PAPERS)


class AffinityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    researcher: Researcher
    candidates: list[Paper] = Field(max_length=MAX_PAPERS)
