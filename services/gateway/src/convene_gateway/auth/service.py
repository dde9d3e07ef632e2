"""Login and bearer-token checks."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

from convene_common.db import Pool
from convene_gateway.accounts import repository as accounts
from convene_gateway.auth.cache import CredentialCache, LiveAccount
from convene_gateway.auth.passwords import PasswordHasher
from convene_gateway.auth.schemas import AccountPrincipal, AdminPrincipal, CitizenPrincipal
from convene_gateway.auth.tokens import (
    InvalidTokenError,
    IssuedToken,
    Role,
    decode_access_token_once,
    issue_access_token,
)
from convene_gateway.config import GatewaySettings
from convene_gateway.errors import InvalidCredentialsError

logger = logging.getLogger("convene.gateway.auth")

# One message for every login failure: it must not tell which emails have accounts.
LOGIN_FAILED = "The email or password is incorrect."
BEARER_CHALLENGE = 'Bearer realm="convene"'
INVALID_TOKEN_CHALLENGE = 'Bearer realm="convene", error="invalid_token"'


async def login(
    *, pool: Pool, hasher: PasswordHasher, settings: GatewaySettings, email: str, password: str
) -> IssuedToken:
    async with pool.acquire() as connection:
        account = await accounts.get_by_email(connection, email=email)
    if account is None:
        # Costs what a wrong password costs, so timing does not reveal unknown emails.
        await hasher.verify_dummy(password)
        logger.info("login failed", extra={"reason": "credentials"})
        raise InvalidCredentialsError(LOGIN_FAILED, challenge=BEARER_CHALLENGE)
    valid = await hasher.verify(account.password_hash, password)
    if not valid or not account.usable:
        logger.info("login failed", extra={"reason": "credentials"})
        raise InvalidCredentialsError(LOGIN_FAILED, challenge=BEARER_CHALLENGE)
    if hasher.needs_rehash(account.password_hash):
        new_hash = await hasher.hash(password)
        async with pool.acquire() as connection:
            await accounts.update_password_hash(
                connection, account_id=account.id, password_hash=new_hash
            )
    role: Role = "admin" if account.kind == "admin" else "citizen"
    logger.info("login", extra={"account_id": str(account.id), "role": role})
    return issue_access_token(settings=settings, account_id=account.id, role=role)


async def principal_from_token(
    *,
    pool: Pool,
    settings: GatewaySettings,
    credentials: CredentialCache,
    token: str,
    request_state: MutableMapping[str, Any],
) -> AccountPrincipal:
    """The account behind a bearer token; it must still exist and be enabled (asked of the
    database at most every credential_cache_ttl_seconds per account and process)."""
    try:
        claims = decode_access_token_once(token, settings=settings, request_state=request_state)
    except InvalidTokenError as exc:
        raise InvalidCredentialsError(
            "The access token is invalid or has expired.", challenge=INVALID_TOKEN_CHALLENGE
        ) from exc
    live = credentials.accounts.get(claims.account_id)
    if live is None:
        generation = credentials.accounts.generation()
        async with pool.acquire() as connection:
            account = await accounts.get_by_id(connection, account_id=claims.account_id)
        # An erased or disabled account's tokens stop working, though they have not expired.
        if account is not None and account.usable:
            live = LiveAccount(kind=account.kind, citizen_id=account.citizen_id)
            credentials.accounts.put(claims.account_id, live, generation=generation)
    if live is None or live.kind != claims.role:
        raise InvalidCredentialsError(
            "The access token is no longer valid.", challenge=INVALID_TOKEN_CHALLENGE
        )
    if live.kind == "citizen":
        assert live.citizen_id is not None
        return CitizenPrincipal(
            account_id=claims.account_id, citizen_id=live.citizen_id, scopes=claims.scopes
        )
    return AdminPrincipal(account_id=claims.account_id, scopes=claims.scopes)
