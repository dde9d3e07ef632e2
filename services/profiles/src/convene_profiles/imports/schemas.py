from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

ImportStatus = Literal["queued", "running", "succeeded", "failed"]


class RejectedRow(BaseModel):
    line: int
    reason: str


class ImportAccepted(BaseModel):
    """The answer to an upload: the job runs off the request."""

    id: UUID
    status: ImportStatus
    progress_percent: int


class ImportRead(BaseModel):
    id: UUID
    status: ImportStatus
    progress_percent: int
    format: Literal["jsonl", "csv"]
    source_body_id: UUID | None
    # Rows read so far (all of them once the job has finished).
    rows: int
    # New rows stored (pending_confirmation + unclaimed).
    imported: int
    # New rows whose address a verified citizen holds: they wait for that citizen's yes.
    pending_confirmation: int
    # New rows for an address nobody has verified: sealed until its owner verifies it.
    unclaimed: int
    # Rows whose (source, external_id) was already stored: nothing changed.
    duplicates: int
    rejected_count: int
    rejected: list[RejectedRow]
    error: str | None
    file_bytes: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class PastResponseRead(BaseModel):
    id: UUID
    source: str
    status: Literal["pending", "confirmed", "declined"]
    responded_at: datetime
    question: str | None
    response_text: str | None
    rating: int | None
    imported_at: datetime
    decided_at: datetime | None


class SourceSummary(BaseModel):
    source: str
    count: int


class CitizenImports(BaseModel):
    """A citizen's imported past responses: those waiting for their yes (grouped by source,
    "we found 3 of your past responses to Example Council consultations") and those decided."""

    pending_count: int
    pending_by_source: list[SourceSummary]
    items: list[PastResponseRead]


class ImportDecision(BaseModel):
    """Confirm or decline pending responses: all of them, or those of the given sources."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sources: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        default=None, max_length=100
    )


class DecisionResult(BaseModel):
    changed: int
