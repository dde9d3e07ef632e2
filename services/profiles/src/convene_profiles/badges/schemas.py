from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator


class BadgeCreate(BaseModel):
    """Exactly one of: an Open Badges 2.0 assertion (JSON object for a hosted assertion, or a
    JWS compact string for a signed one), or an Open Badges 3.0 credential as a VC-JWT."""

    model_config = ConfigDict(extra="forbid")

    assertion: dict[str, Any] | str | None = None
    credential: str | None = Field(default=None, max_length=60_000)

    @model_validator(mode="after")
    def _exactly_one(self) -> BadgeCreate:
        if (self.assertion is None) == (self.credential is None):
            raise ValueError("give exactly one of 'assertion' (Open Badges 2.0) or 'credential'")
        return self


class VerificationChecks(BaseModel):
    signature: bool
    issuer: bool
    expiry: bool
    revocation: bool
    recipient: bool


class Verification(BaseModel):
    checks: VerificationChecks
    errors: list[str]


BadgeFormat = Literal["ob2_hosted", "ob2_signed", "ob3"]


class BadgeRead(BaseModel):
    id: UUID
    format: BadgeFormat
    name: str
    description: str
    criteria: str | None
    issuer_id: str | None
    issuer_name: str | None
    verified: bool
    verification: Verification
    checked_at: datetime
    issued_on: datetime | None
    expires_at: datetime | None
    created_at: datetime


class BadgeExport(BadgeRead):
    raw_credential: Any


class BadgeList(BaseModel):
    items: list[BadgeRead]
    next_cursor: str | None = None


class BadgeIssuerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=2000, description="Issuer URL or DID")
    name: str = Field(min_length=1, max_length=300)
    public_key_jwk: dict[str, Any] | None = None
    revoked_credential_ids: list[str] = Field(default_factory=list, max_length=10_000)


class BadgeIssuerRead(BaseModel):
    id: str
    name: str
    public_key_jwk: dict[str, Any] | None
    revoked_credential_ids: list[str]
    created_at: datetime


class BadgeIssuerList(BaseModel):
    items: list[BadgeIssuerRead]
    next_cursor: str | None = None


class BadgeRecheckResult(BaseModel):
    """checked: badges whose revocation status was confirmed with the issuer this run;
    revoked: of those, the ones found revoked (now verified=false)."""

    checked: int
    revoked: int
