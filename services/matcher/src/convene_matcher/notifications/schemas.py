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


class AccountEmailCreate(BaseModel):
    """An email to an explicit address, with plain-text and HTML parts."""

    model_config = ConfigDict(extra="forbid")

    kind: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{0,39}$")]
    to: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)]
    subject: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    text: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
    html: Annotated[str, StringConstraints(min_length=1, max_length=50_000)]
    idempotency_key: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    recipient_id: uuid.UUID | None = Field(
        default=None, description="The account the email is for, when there is one."
    )


class AccountEmailQueued(BaseModel):
    delivery_id: uuid.UUID
