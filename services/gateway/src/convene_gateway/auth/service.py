"""Sign-in, sessions (rotating refresh tokens, revocation) and bearer-token checks."""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from convene_common.db import Connection, Pool
from convene_gateway.accounts import repository as accounts
from convene_gateway.accounts.repository import AccountRow
from convene_gateway.auth import repository, second_factor
from convene_gateway.auth.cache import CredentialCache, LiveSession
from convene_gateway.auth.passwords import PasswordHasher
from convene_gateway.auth.schemas import (
    AccountPrincipal,
    AdminPrincipal,
    CitizenPrincipal,
    MemberRole,
    StaffPrincipal,
)
from convene_gateway.auth.throttle import SignInThrottle
from convene_gateway.auth.tokens import (
    ENROL_ONLY_SCOPES,
    InvalidTokenError,
    Role,
    TokenClaims,
    decode_access_token_once,
    issue_access_token,
)
from convene_gateway.config import GatewaySettings
from convene_gateway.errors import InvalidCredentialsError, SecondFactorRequiredError

logger = logging.getLogger("convene.gateway.auth")

# One message for every login failure: it must not tell which emails have accounts.
LOGIN_FAILED = "The email or password is incorrect."
# One message for every refused refresh token: unknown, reused, expired or revoked.
REFRESH_FAILED = "The refresh token is invalid or has expired."
SECOND_FACTOR_FAILED = "The second factor is incorrect or was already used."
BEARER_CHALLENGE = 'Bearer realm="convene"'
INVALID_TOKEN_CHALLENGE = 'Bearer realm="convene", error="invalid_token"'
REFRESH_PREFIX = "cvr_"


@dataclass(frozen=True)
class IssuedSession:
    access_token: str
    refresh_token: str
    expires_in: int
    scopes: tuple[str, ...]
    session_id: uuid.UUID


def hash_secret(secret: str) -> bytes:
    """sha256: every secret hashed this way has 256 bits of entropy (no slow hash needed)."""
    return hashlib.sha256(secret.encode()).digest()


def _role(account: AccountRow) -> Role:
    if account.kind == "admin":
        return "admin"
    return "citizen" if account.kind == "citizen" else "staff"


async def verify_password(
    *, pool: Pool, hasher: PasswordHasher, email: str, password: str
) -> AccountRow:
    """The usable account with this email and password, or the one login failure."""
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
    return account


def _scopes(
    *, settings: GatewaySettings, role: Role, second_factor: bool
) -> tuple[str, ...] | None:
    """None: the role's scopes. An admin without a second factor may only enrol one."""
    if role == "admin" and not second_factor and settings.admin_second_factor_required:
        return ENROL_ONLY_SCOPES
    return None


async def sign_in(
    *,
    pool: Pool,
    hasher: PasswordHasher,
    settings: GatewaySettings,
    throttle: SignInThrottle,
    email: str,
    password: str,
    totp: str | None,
) -> IssuedSession:
    """Password, then (once enrolled) the second factor: a TOTP code or a recovery code."""
    await throttle.login(email)
    account = await verify_password(pool=pool, hasher=hasher, email=email, password=password)
    async with pool.acquire() as connection:
        enrolled = await second_factor.get(connection, account_id=account.id)
    passed = False
    if enrolled is not None and enrolled.confirmed:
        if not totp:
            raise SecondFactorRequiredError(
                "This account needs its second factor: send the form field totp with a "
                "current code or a recovery code.",
                challenge=BEARER_CHALLENGE,
            )
        await throttle.second_factor(account.id)
        async with pool.acquire() as connection:
            passed = await second_factor.check(connection, account_id=account.id, code=totp)
        if not passed:
            logger.info("login failed", extra={"reason": "second_factor"})
            raise InvalidCredentialsError(SECOND_FACTOR_FAILED, challenge=BEARER_CHALLENGE)
    return await start_session(pool=pool, settings=settings, account=account, second_factor=passed)


async def start_session(
    *, pool: Pool, settings: GatewaySettings, account: AccountRow, second_factor: bool = False
) -> IssuedSession:
    session_id = uuid.uuid4()
    refresh_token = REFRESH_PREFIX + secrets.token_urlsafe(32)
    async with pool.acquire() as connection, connection.transaction():
        await repository.create_session(
            connection,
            session_id=session_id,
            account_id=account.id,
            lifetime_seconds=settings.session_ttl_seconds,
            second_factor=second_factor,
        )
        await repository.insert_refresh_token(
            connection, token_hash=hash_secret(refresh_token), session_id=session_id
        )
    role = _role(account)
    issued = issue_access_token(
        settings=settings,
        account_id=account.id,
        session_id=session_id,
        role=role,
        scopes=_scopes(settings=settings, role=role, second_factor=second_factor),
    )
    logger.info("login", extra={"account_id": str(account.id), "role": role})
    return IssuedSession(
        access_token=issued.access_token,
        refresh_token=refresh_token,
        expires_in=issued.expires_in,
        scopes=issued.scopes,
        session_id=session_id,
    )


async def refresh(
    *, pool: Pool, settings: GatewaySettings, credentials: CredentialCache, refresh_token: str
) -> IssuedSession:
    """Rotates: the token given is spent and a new one answered. A spent token presented
    again means two holders (one a thief): the whole session ends."""
    failed = InvalidCredentialsError(REFRESH_FAILED, challenge=INVALID_TOKEN_CHALLENGE)
    if not refresh_token.startswith(REFRESH_PREFIX) or len(refresh_token) > 200:
        raise failed
    async with pool.acquire() as connection, connection.transaction():
        state = await repository.use_refresh_token(
            connection, token_hash=hash_secret(refresh_token)
        )
        if state is None:
            raise failed
        if state.used:
            ended = await repository.revoke_session(
                connection, session_id=state.session_id, reason="refresh_reuse"
            )
            revoked_now = True
        else:
            ended, revoked_now = [], False
        if not revoked_now and state.session_live:
            account = await accounts.get_by_id(connection, account_id=state.account_id)
            if account is not None and account.usable:
                new_token = REFRESH_PREFIX + secrets.token_urlsafe(32)
                await repository.insert_refresh_token(
                    connection, token_hash=hash_secret(new_token), session_id=state.session_id
                )
                role = _role(account)
                issued = issue_access_token(
                    settings=settings,
                    account_id=account.id,
                    session_id=state.session_id,
                    role=role,
                    scopes=_scopes(settings=settings, role=role, second_factor=state.second_factor),
                )
                return IssuedSession(
                    access_token=issued.access_token,
                    refresh_token=new_token,
                    expires_in=issued.expires_in,
                    scopes=issued.scopes,
                    session_id=state.session_id,
                )
    # Outside the transaction: the revocation is committed before this process forgets.
    credentials.forget_sessions(ended)
    if ended:
        logger.warning(
            "refresh token reused: session revoked", extra={"account_id": str(state.account_id)}
        )
    raise failed


async def revoke_sessions(
    *,
    connection: Connection,
    account_id: uuid.UUID,
    reason: str,
    keep_session_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Ends every session of the account (inside the caller's transaction); the caller hands
    the answer to CredentialCache.forget_sessions once it has committed."""
    return await repository.revoke_account_sessions(
        connection, account_id=account_id, reason=reason, keep_session_id=keep_session_id
    )


async def logout(
    *,
    pool: Pool,
    credentials: CredentialCache,
    account_id: uuid.UUID,
    session_id: uuid.UUID,
    everywhere: bool,
) -> None:
    async with pool.acquire() as connection:
        if everywhere:
            ended = await repository.revoke_account_sessions(
                connection, account_id=account_id, reason="logout_everywhere"
            )
        else:
            ended = await repository.revoke_session(
                connection, session_id=session_id, reason="logout"
            )
    credentials.forget_sessions(ended)


def _invalid_token(detail: str = "The access token is invalid or has expired.") -> Exception:
    return InvalidCredentialsError(detail, challenge=INVALID_TOKEN_CHALLENGE)


async def session_from_token(
    *,
    pool: Pool,
    settings: GatewaySettings,
    credentials: CredentialCache,
    token: str,
    request_state: MutableMapping[str, Any],
) -> tuple[TokenClaims, LiveSession]:
    """The live session behind a bearer token: not revoked, its account still usable (asked
    of the database at most every credential_cache_ttl_seconds per session and process)."""
    try:
        claims = decode_access_token_once(token, settings=settings, request_state=request_state)
    except InvalidTokenError as exc:
        raise _invalid_token() from exc
    live = credentials.sessions.get(claims.session_id)
    if live is None:
        generation = credentials.sessions.generation()
        async with pool.acquire() as connection:
            state = await repository.get_session_state(connection, session_id=claims.session_id)
        if state is not None and state.live and state.usable:
            live = LiveSession(
                account_id=state.account_id,
                kind=state.kind,
                citizen_id=state.citizen_id,
                email_verified=state.email_verified,
                organisation_id=state.organisation_id,
                member_role=state.member_role,
            )
            credentials.sessions.put(claims.session_id, live, generation=generation)
    expected_kind = {"citizen": "citizen", "admin": "admin", "staff": "staff"}[claims.role]
    if live is None or live.account_id != claims.account_id or live.kind != expected_kind:
        raise _invalid_token("The access token is no longer valid.")
    return claims, live


async def principal_from_token(
    *,
    pool: Pool,
    settings: GatewaySettings,
    credentials: CredentialCache,
    token: str,
    request_state: MutableMapping[str, Any],
) -> AccountPrincipal:
    claims, live = await session_from_token(
        pool=pool,
        settings=settings,
        credentials=credentials,
        token=token,
        request_state=request_state,
    )
    if live.kind == "citizen":
        assert live.citizen_id is not None
        return CitizenPrincipal(
            account_id=claims.account_id, citizen_id=live.citizen_id, scopes=claims.scopes
        )
    if live.kind == "admin":
        return AdminPrincipal(account_id=claims.account_id, scopes=claims.scopes)
    if live.organisation_id is None or live.member_role is None:
        # A staff account whose membership ended: nothing left to act for.
        raise _invalid_token("The access token is no longer valid.")
    role: MemberRole = "manager" if live.member_role == "manager" else "officer"
    return StaffPrincipal(
        account_id=claims.account_id,
        organisation_id=live.organisation_id,
        member_role=role,
        scopes=claims.scopes,
    )
