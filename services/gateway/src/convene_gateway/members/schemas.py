"""Member shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from convene_gateway.auth.schemas import MemberRole
from convene_gateway.citizens.schemas import EmailAddress
from convene_gateway.organisations.schemas import OrganisationKind

_STRICT = ConfigDict(extra="forbid")


class MemberInvite(BaseModel):
    model_config = _STRICT

    email: EmailAddress
    role: MemberRole


class MemberInvited(BaseModel):
    """The same answer whether or not the address already has an account."""

    email: str
    role: MemberRole
    organisation_id: uuid.UUID
    expires_at: datetime


class MemberJoin(BaseModel):
    model_config = _STRICT

    token: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    # Not stripped: a password is taken exactly as typed.
    password: Annotated[str, StringConstraints(strip_whitespace=False)] = Field(
        min_length=10, max_length=128
    )
    display_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]


class MemberRead(BaseModel):
    account_id: uuid.UUID
    email: str
    display_name: str
    role: MemberRole
    joined_at: datetime


class MemberJoined(MemberRead):
    organisation_id: uuid.UUID


class MemberList(BaseModel):
    items: list[MemberRead]


class MemberUpdate(BaseModel):
    model_config = _STRICT

    role: MemberRole


class MyOrganisationRead(BaseModel):
    """The signed-in member's organisation and role (what the web's staff pages show)."""

    id: uuid.UUID
    name: str
    kind: OrganisationKind
    account_id: uuid.UUID
    role: MemberRole
