"""Webhook endpoint and dead-letter shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class WebhookEndpointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class WebhookEndpointRead(BaseModel):
    url: str
    secret: str | None = Field(
        description="The signing secret: shown once, when the endpoint is first set."
    )
    created_at: datetime
    updated_at: datetime


class DeliveryAttempt(BaseModel):
    attempt: int
    outcome: str
    detail: str | None
    at: datetime


class DeadLetter(BaseModel):
    id: int
    kind: str
    channel: str
    delivery_id: uuid.UUID
    attempts: int
    last_error: str | None
    created_at: datetime
    deliveries: list[DeliveryAttempt]


class DeadLetterPage(BaseModel):
    items: list[DeadLetter]
    next_cursor: str | None
