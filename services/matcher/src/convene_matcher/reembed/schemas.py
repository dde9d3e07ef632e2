from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ReembedCreate(BaseModel):
    """The model to switch to: a local sentence-transformers folder (no hub is reachable)."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model_name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._/-]+$")
    # None: the folder the matcher runs now (useful when only the name changes).
    model_path: str | None = Field(default=None, min_length=1, max_length=1000)
    # None: the matcher's embedding_backend setting.
    backend: Literal["torch", "onnx", "onnx-int8"] | None = None


class ReembedRead(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    id: uuid.UUID
    status: Literal["queued", "embedding", "switching", "succeeded", "failed"]
    source_model: str
    target_model: str
    texts_total: int
    texts_cached: int
    texts_embedded: int
    texts_caught_up: int
    embed_seconds: float | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    switched_at: datetime | None
    finished_at: datetime | None
