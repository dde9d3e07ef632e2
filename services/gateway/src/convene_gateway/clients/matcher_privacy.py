"""The matcher's part of a citizen's GDPR export, over the MatcherClient's connection and
error mapping (request id, deadlines, problem mapping)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from convene_gateway.clients.matcher import MatcherClient


class MatcherExport(BaseModel):
    """Everything the matcher holds about one citizen (its ``GET /v1/citizens/{id}/export``);
    the sections are passed through as the matcher states them."""

    model_config = ConfigDict(extra="allow")

    citizen_id: uuid.UUID
    invitations: list[dict[str, Any]] = Field(
        description="Invitations with the body's message, answers, hours, decline reasons, "
        "the evidence shown as 'why you', ratings received and outcomes."
    )
    matches: list[dict[str, Any]] = Field(description="Each time they were ranked for a call.")
    exposure: list[dict[str, Any]]
    feedback: list[dict[str, Any]]
    outcome_labels: list[dict[str, Any]]
    notifications: list[dict[str, Any]]


async def export_citizen(matcher: MatcherClient, *, citizen_id: uuid.UUID) -> MatcherExport:
    return await matcher._get(MatcherExport, f"/v1/citizens/{citizen_id}/export")
