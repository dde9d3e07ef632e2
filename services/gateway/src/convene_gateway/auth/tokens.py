"""Bearer access tokens: HS256 JWTs with sub, sid (the sign-in session), role, scopes, exp, iat
and jti."""

from __future__ import annotations

import time
import uuid
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, Literal

import jwt

from convene_gateway.config import GatewaySettings

ALGORITHM = "HS256"
Role = Literal["citizen", "admin", "staff"]

# What each role's token may do; routes check the role, scopes narrow it further.
ROLE_SCOPES: dict[str, tuple[str, ...]] = {
    "citizen": ("me:read", "me:write"),
    "admin": ("admin",),
    # Staff tokens carry no scopes of their own: what a member may do follows from their live
    # membership (role), looked up with the session on every request.
    "staff": (),
}


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class TokenClaims:
    account_id: uuid.UUID
    session_id: uuid.UUID
    role: Role
    scopes: frozenset[str]
    token_id: str


class InvalidTokenError(Exception):
    pass


# An admin session that has not passed a second factor may only enrol one.
ENROL_ONLY_SCOPES = ("totp:enrol",)


def issue_access_token(
    *,
    settings: GatewaySettings,
    account_id: uuid.UUID,
    session_id: uuid.UUID,
    role: Role,
    scopes: tuple[str, ...] | None = None,
) -> IssuedToken:
    now = int(time.time())
    scopes = ROLE_SCOPES[role] if scopes is None else scopes
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(account_id),
        "sid": str(session_id),
        "role": role,
        "scopes": list(scopes),
        "iat": now,
        "exp": now + settings.access_token_ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=ALGORITHM)
    return IssuedToken(
        access_token=token, expires_in=settings.access_token_ttl_seconds, scopes=scopes
    )


def decode_access_token(token: str, *, settings: GatewaySettings) -> TokenClaims:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["sub", "sid", "exp", "iat", "jti", "iss", "aud"]},
        )
        role = claims.get("role")
        scopes = claims.get("scopes")
        if role not in ROLE_SCOPES or not isinstance(scopes, list):
            raise InvalidTokenError("unexpected claims")
        return TokenClaims(
            account_id=uuid.UUID(str(claims["sub"])),
            session_id=uuid.UUID(str(claims["sid"])),
            role=role,
            scopes=frozenset(str(scope) for scope in scopes),
            token_id=str(claims["jti"]),
        )
    except (jwt.PyJWTError, ValueError) as exc:
        raise InvalidTokenError(type(exc).__name__) from exc


# Where a request keeps the claims of the bearer token it carried, once decoded: the rate
# limiter reads them before routing and authentication needs them again.
_DECODED_KEY = "convene.access_token_claims"


def decode_access_token_once(
    token: str, *, settings: GatewaySettings, request_state: MutableMapping[str, Any]
) -> TokenClaims:
    """decode_access_token, at most once per request (request_state is the ASGI scope's
    "state"). An invalid token is decoded again, and raises again, each time."""
    cached = request_state.get(_DECODED_KEY)
    if cached is not None and cached[0] == token:
        claims: TokenClaims = cached[1]
        return claims
    claims = decode_access_token(token, settings=settings)
    request_state[_DECODED_KEY] = (token, claims)
    return claims
