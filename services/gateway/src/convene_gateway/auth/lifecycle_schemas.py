"""Request shapes of the account lifecycle routes (verification, reset, change)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from convene_gateway.citizens.schemas import EmailAddress

_STRICT = ConfigDict(extra="forbid")
Password = Annotated[str, StringConstraints(strip_whitespace=False)]
Token = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class TokenSubmit(BaseModel):
    model_config = _STRICT

    token: Token


class PasswordResetRequest(BaseModel):
    model_config = _STRICT

    email: EmailAddress


class PasswordResetConfirm(BaseModel):
    model_config = _STRICT

    token: Token
    password: Password = Field(min_length=10, max_length=128)


class PasswordChange(BaseModel):
    model_config = _STRICT

    current_password: Password = Field(min_length=1, max_length=128)
    new_password: Password = Field(min_length=10, max_length=128)


class EmailChange(BaseModel):
    model_config = _STRICT

    password: Password = Field(min_length=1, max_length=128)
    new_email: EmailAddress


class Accepted(BaseModel):
    """The same answer whatever happened (it must not tell which addresses exist)."""

    status: str = "accepted"
    detail: str
