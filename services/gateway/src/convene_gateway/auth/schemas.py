"""Token answers and the principals routes receive."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

MemberRole = Literal["manager", "officer"]
# What a member may do for their organisation; an officer never manages members or keys.
MEMBER_SCOPES: dict[str, frozenset[str]] = {
    "officer": frozenset({"calls:read", "calls:write", "ratings:write"}),
    "manager": frozenset({"calls:read", "calls:write", "ratings:write", "organisation:manage"}),
}


class TokenRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    scope: str
    # Single use: POST /v1/auth/refresh answers a new pair; a second use ends the session.
    refresh_token: str


@dataclass(frozen=True)
class CitizenPrincipal:
    """A signed-in citizen. Routes act on `citizen_id` only: never an id from the request."""

    account_id: uuid.UUID
    citizen_id: uuid.UUID
    scopes: frozenset[str]


@dataclass(frozen=True)
class AdminPrincipal:
    account_id: uuid.UUID
    scopes: frozenset[str]


@dataclass(frozen=True)
class StaffPrincipal:
    """A member of an organisation signed in with a bearer token (no citizen hat)."""

    account_id: uuid.UUID
    organisation_id: uuid.UUID
    member_role: MemberRole
    scopes: frozenset[str]


@dataclass(frozen=True)
class PublicBodyPrincipal:
    """A public body: an API key of its organisation, or one of its staff with a bearer token
    (then `account_id` and `member_role` say who, and `api_key_id` is None)."""

    organisation_id: uuid.UUID
    api_key_id: uuid.UUID | None
    scopes: frozenset[str]
    account_id: uuid.UUID | None = None
    member_role: MemberRole | None = None

    @property
    def actor(self) -> str:
        """Who acts, for records of who did what: account:<id> or api_key:<id>."""
        if self.account_id is not None:
            return f"account:{self.account_id}"
        return f"api_key:{self.api_key_id}"


AccountPrincipal = CitizenPrincipal | AdminPrincipal | StaffPrincipal


class RefreshedTokenRead(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
