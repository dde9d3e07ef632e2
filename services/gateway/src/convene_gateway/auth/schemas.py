"""Token answers and the principals routes receive."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel


class TokenRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    scope: str


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
class PublicBodyPrincipal:
    """A public body calling with an API key of its organisation."""

    organisation_id: uuid.UUID
    api_key_id: uuid.UUID
    scopes: frozenset[str]


AccountPrincipal = CitizenPrincipal | AdminPrincipal
