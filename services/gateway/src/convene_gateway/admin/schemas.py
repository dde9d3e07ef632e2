"""Admin requests forwarded to profiles, validated here first."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class CuratedRoleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The pattern profiles accepts (tests/contracts checks they agree).
    slug: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    label: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class BadgeIssuerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=500, description="The issuer's URL or DID.")
    name: str = Field(min_length=1, max_length=200)
    public_key_jwk: dict[str, Any] | None = Field(
        default=None, description="Not needed for did:jwk issuers, whose id carries the key."
    )
    revoked_credential_ids: list[str] = Field(default_factory=list, max_length=10_000)
