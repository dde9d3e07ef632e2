"""Organisation and API key shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

OrganisationKind = Literal["council", "nhs", "department", "committee", "other"]
# What a public body's key may do. Routes ask for one with require_public_body("calls:read").
ApiKeyScope = Literal["calls:read", "calls:write", "ratings:write"]
DEFAULT_API_KEY_SCOPES: tuple[ApiKeyScope, ...] = ("calls:read", "calls:write")


class OrganisationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: OrganisationKind

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        stripped = value.strip()
        if not stripped:
            raise ValueError("must not be blank")
        return stripped


class OrganisationRead(BaseModel):
    id: uuid.UUID
    name: str
    kind: OrganisationKind
    created_at: datetime


class OrganisationPage(BaseModel):
    items: list[OrganisationRead]
    next_cursor: str | None


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=200)
    scopes: list[ApiKeyScope] = Field(
        default_factory=lambda: list(DEFAULT_API_KEY_SCOPES), min_length=1, max_length=10
    )


class ApiKeyRead(BaseModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    name: str
    prefix: str = Field(description="The public part of the key, to recognise it in a list.")
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    api_key: str = Field(description="The key itself. Shown once: only a hash is stored.")


class ApiKeyList(BaseModel):
    items: list[ApiKeyRead]
