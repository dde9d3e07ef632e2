"""An account's lifecycle by email: verification, password reset and change, email change.

Every emailed token is single use, stored as its sha256, and expires (verification 48 h,
reset 1 h, staff invitation 7 days). A refused token is one answer (400 invalid-token) for
unknown, expired, used and forged alike. A password reset or change ends every session.
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid

from convene_gateway.accounts import repository
from convene_gateway.auth import repository as sessions
from convene_gateway.auth.cache import CredentialCache
from convene_gateway.auth.passwords import PasswordHasher
from convene_gateway.auth.service import hash_secret
from convene_gateway.clients.matcher import MatcherClient
from convene_gateway.clients.profiles import ProfilesClient
from convene_gateway.config import GatewaySettings
from convene_gateway.dependencies import Pool
from convene_gateway.emails import messages
from convene_gateway.emails import service as emails
from convene_gateway.errors import (
    ConflictError,
    InvalidCredentialsError,
    InvalidTokenProblem,
    TooManyAttemptsError,
)

logger = logging.getLogger("convene.gateway.accounts")

INVALID_TOKEN = "The link is invalid or has expired. Ask for a new one."
TOKEN_PREFIX = "cvt_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes | None:
    """None for what cannot be one of our tokens (saves a lookup; same answer anyway)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    return hash_secret(token)


async def send_verification(
    *,
    pool: Pool,
    matcher: MatcherClient,
    settings: GatewaySettings,
    account_id: uuid.UUID,
    email: str,
) -> None:
    token = new_token()
    async with pool.acquire() as connection:
        await repository.insert_token(
            connection,
            token_hash=hash_secret(token),
            purpose="verify_email",
            email=email,
            account_id=account_id,
            lifetime_seconds=settings.email_verification_ttl_seconds,
        )
    await emails.send(
        matcher=matcher,
        message=messages.verify_email(
            base_url=settings.web_base_url,
            token=token,
            hours=settings.email_verification_ttl_seconds // 3600,
        ),
        to=email,
        idempotency_key=f"verify:{hash_secret(token).hex()}",
        account_id=account_id,
    )


async def resend_verification(
    *, pool: Pool, matcher: MatcherClient, settings: GatewaySettings, account_id: uuid.UUID
) -> None:
    async with pool.acquire() as connection:
        account = await repository.get_by_id(connection, account_id=account_id)
        if account is None:
            raise InvalidCredentialsError("The account no longer exists.", challenge="Bearer")
        if account.email_verified_at is not None and account.pending_email is None:
            raise ConflictError("Your email address is already verified.")
        recent = await repository.tokens_issued_since(
            connection, account_id=account_id, purpose="verify_email", seconds=3600
        )
    if recent >= settings.account_emails_per_hour:
        raise TooManyAttemptsError(
            "Too many verification emails; try again later.", retry_after_seconds=3600
        )
    await send_verification(
        pool=pool,
        matcher=matcher,
        settings=settings,
        account_id=account_id,
        email=account.pending_email or account.email,
    )


async def verify_email(
    *,
    pool: Pool,
    profiles: ProfilesClient,
    credentials: CredentialCache,
    token: str,
) -> None:
    hashed = token_hash(token)
    if hashed is None:
        raise InvalidTokenProblem(INVALID_TOKEN)
    async with pool.acquire() as connection, connection.transaction():
        row = await repository.take_token(connection, token_hash=hashed, purpose="verify_email")
        if row is None or row.account_id is None:
            raise InvalidTokenProblem(INVALID_TOKEN)
        account = await repository.get_by_id(connection, account_id=row.account_id)
        if account is None:
            raise InvalidTokenProblem(INVALID_TOKEN)
        if account.pending_email is not None and row.email.lower() == account.pending_email.lower():
            if not await repository.apply_pending_email(
                connection, account_id=account.id, email=account.pending_email
            ):
                raise InvalidTokenProblem(INVALID_TOKEN)
        elif row.email.lower() == account.email.lower():
            await repository.mark_verified(connection, account_id=account.id)
        else:
            # A link for an address the account no longer has (changed since).
            raise InvalidTokenProblem(INVALID_TOKEN)
        new_email = account.pending_email if account.pending_email else None
        if account.citizen_id is not None:
            # Inside the transaction: if profiles cannot be told, nothing is spent and the
            # same link works again (the PUT is idempotent).
            await profiles.set_email_verified(
                citizen_id=account.citizen_id, verified=True, email=new_email
            )
        live = await sessions.live_session_ids(connection, account_id=account.id)
    # Sessions cache "verified"; forget so the next request reads it.
    credentials.forget_sessions(live)
    logger.info("email verified", extra={"account_id": str(account.id)})


async def request_password_reset(
    *, pool: Pool, matcher: MatcherClient, settings: GatewaySettings, email: str
) -> None:
    """Does the work for a reset request; the route answers 202 whatever happens here."""
    async with pool.acquire() as connection:
        account = await repository.get_by_email(connection, email=email)
        if account is None or not account.usable:
            return
        recent = await repository.tokens_issued_since(
            connection, account_id=account.id, purpose="reset_password", seconds=3600
        )
        if recent >= settings.account_emails_per_hour:
            logger.info("reset requests rate-limited", extra={"account_id": str(account.id)})
            return
        token = new_token()
        await repository.insert_token(
            connection,
            token_hash=hash_secret(token),
            purpose="reset_password",
            email=account.email,
            account_id=account.id,
            lifetime_seconds=settings.password_reset_ttl_seconds,
        )
    await emails.send(
        matcher=matcher,
        message=messages.reset_password(
            base_url=settings.web_base_url,
            token=token,
            minutes=settings.password_reset_ttl_seconds // 60,
        ),
        to=account.email,
        idempotency_key=f"reset:{hash_secret(token).hex()}",
        account_id=account.id,
    )


async def confirm_password_reset(
    *,
    pool: Pool,
    hasher: PasswordHasher,
    credentials: CredentialCache,
    token: str,
    password: str,
) -> uuid.UUID:
    hashed = token_hash(token)
    if hashed is None:
        raise InvalidTokenProblem(INVALID_TOKEN)
    password_hash = await hasher.hash(password)
    async with pool.acquire() as connection, connection.transaction():
        row = await repository.take_token(connection, token_hash=hashed, purpose="reset_password")
        if row is None or row.account_id is None:
            raise InvalidTokenProblem(INVALID_TOKEN)
        await repository.update_password_hash(
            connection, account_id=row.account_id, password_hash=password_hash
        )
        await repository.spend_tokens_of(
            connection, account_id=row.account_id, purpose="reset_password"
        )
        # Following the emailed link proves the address too.
        await repository.mark_verified(connection, account_id=row.account_id)
        ended = await sessions.revoke_account_sessions(
            connection, account_id=row.account_id, reason="password_reset"
        )
    credentials.forget_sessions(ended)
    logger.info("password reset", extra={"account_id": str(row.account_id)})
    return row.account_id


async def change_password(
    *,
    pool: Pool,
    hasher: PasswordHasher,
    credentials: CredentialCache,
    account_id: uuid.UUID,
    current_password: str,
    new_password: str,
) -> None:
    """Needs the current password; ends every session (this one too: sign in again)."""
    async with pool.acquire() as connection:
        account = await repository.get_by_id(connection, account_id=account_id)
    if account is None or not await hasher.verify(account.password_hash, current_password):
        raise InvalidCredentialsError(
            "The current password is incorrect.", challenge='Bearer realm="convene"'
        )
    password_hash = await hasher.hash(new_password)
    async with pool.acquire() as connection, connection.transaction():
        await repository.update_password_hash(
            connection, account_id=account_id, password_hash=password_hash
        )
        ended = await sessions.revoke_account_sessions(
            connection, account_id=account_id, reason="password_change"
        )
    credentials.forget_sessions(ended)
    logger.info("password changed", extra={"account_id": str(account_id)})


async def request_email_change(
    *,
    pool: Pool,
    hasher: PasswordHasher,
    matcher: MatcherClient,
    settings: GatewaySettings,
    account_id: uuid.UUID,
    password: str,
    new_email: str,
) -> None:
    """The new address takes effect once verified; the old one is told now. The answer is
    the same whether or not the new address is taken (its verification would then fail)."""
    async with pool.acquire() as connection:
        account = await repository.get_by_id(connection, account_id=account_id)
    if account is None or not await hasher.verify(account.password_hash, password):
        raise InvalidCredentialsError(
            "The password is incorrect.", challenge='Bearer realm="convene"'
        )
    async with pool.acquire() as connection:
        recent = await repository.tokens_issued_since(
            connection, account_id=account_id, purpose="verify_email", seconds=3600
        )
        if recent >= settings.account_emails_per_hour:
            raise TooManyAttemptsError(
                "Too many verification emails; try again later.", retry_after_seconds=3600
            )
        await repository.set_pending_email(
            connection, account_id=account_id, pending_email=new_email
        )
    await send_verification(
        pool=pool, matcher=matcher, settings=settings, account_id=account_id, email=new_email
    )
    await emails.send(
        matcher=matcher,
        message=messages.email_change_requested(base_url=settings.web_base_url),
        to=account.email,
        idempotency_key=f"email-change:{account_id}:{new_email.lower()}:{int(time.time()) // 60}",
        account_id=account_id,
    )
