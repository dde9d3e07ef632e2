from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

SourceName = Annotated[str, Field(min_length=1, max_length=200)]


class ImportDecision(BaseModel):
    """Which pending responses to confirm or decline: those of the named sources, or (no
    ``sources``) all of them."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sources: list[SourceName] | None = Field(default=None, max_length=100)
