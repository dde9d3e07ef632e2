from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Paper(BaseModel):
    """An evidence text (a researcher's paper) or a candidate text (a call)."""

    # Harness payloads carry extra keys such as "year": accepted and ignored.
    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=200)
    title: str = ""
    abstract: str = ""
    text: str | None = None

    def content(self) -> str:
        if self.text and self.text.strip():
            return self.text
        if self.title.strip() and self.abstract.strip():
            return f"{self.title.strip()}. {self.abstract.strip()}"
        return self.title or self.abstract


class Researcher(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200)
    papers: list[Paper]


class AffinityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    researcher: Researcher
    candidates: list[Paper]


class AffinityResponse(BaseModel):
    scores: list[float]
