"""Audit entry answers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel


class AuditEntryRead(BaseModel):
    id: int
    occurred_at: datetime
    actor_kind: Literal["account", "api_key", "system"]
    actor_id: uuid.UUID | None
    organisation_id: uuid.UUID | None
    action: str
    object_type: str
    object_id: str | None
    request_id: str | None
    detail: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEntryRead]
    next_cursor: str | None
