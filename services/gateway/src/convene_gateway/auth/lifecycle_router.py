"""/v1/auth/...: email verification, password reset and change, email change."""

from __future__ import annotations

import logging

from fastapi import APIRouter, BackgroundTasks, status

from convene_common.problems import problem_responses
from convene_gateway.accounts import lifecycle
from convene_gateway.auth.dependencies import CurrentSession
from convene_gateway.auth.lifecycle_schemas import (
    Accepted,
    EmailChange,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    TokenSubmit,
)
from convene_gateway.dependencies import (
    CredentialsDep,
    HasherDep,
    MatcherDep,
    PoolDep,
    ProfilesDep,
    SettingsDep,
)

logger = logging.getLogger("convene.gateway.auth")

router = APIRouter(prefix="/v1/auth", tags=["auth"])

RESET_ACCEPTED = (
    "If an account has this address, a link to reset its password is on its way. "
    "The link works once, within an hour."
)


@router.post(
    "/verify-email",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Confirm an email address with the emailed token",
    responses=problem_responses(400, 422, 502, 503, 504),
)
async def verify_email(
    body: TokenSubmit, pool: PoolDep, profiles: ProfilesDep, credentials: CredentialsDep
) -> None:
    """Unknown, expired, used and forged tokens get one answer: 400 invalid-token."""
    await lifecycle.verify_email(
        pool=pool, profiles=profiles, credentials=credentials, token=body.token
    )


@router.post(
    "/verify-email/resend",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send the verification link again (at most a few an hour)",
    responses=problem_responses(401, 409, 422, 429),
)
async def resend_verification(
    session: CurrentSession, pool: PoolDep, matcher: MatcherDep, settings: SettingsDep
) -> Accepted:
    claims, _ = session
    await lifecycle.resend_verification(
        pool=pool, matcher=matcher, settings=settings, account_id=claims.account_id
    )
    return Accepted(detail="A new verification link is on its way.")


async def _reset_in_background(
    *, pool: PoolDep, matcher: MatcherDep, settings: SettingsDep, email: str
) -> None:
    try:
        await lifecycle.request_password_reset(
            pool=pool, matcher=matcher, settings=settings, email=email
        )
    except Exception:
        # After the answer: nobody to tell but the log (no address in it).
        logger.exception("password reset request failed")


@router.post(
    "/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Ask for a password reset link (same answer whether or not the address exists)",
    responses=problem_responses(422),
)
async def request_password_reset(
    body: PasswordResetRequest,
    background: BackgroundTasks,
    pool: PoolDep,
    matcher: MatcherDep,
    settings: SettingsDep,
) -> Accepted:
    """The lookup and the email happen after the answer, so neither the answer nor its
    timing depends on whether the address has an account."""
    background.add_task(
        _reset_in_background, pool=pool, matcher=matcher, settings=settings, email=body.email
    )
    return Accepted(detail=RESET_ACCEPTED)


@router.post(
    "/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set a new password with the emailed token; every session ends",
    responses=problem_responses(400, 422),
)
async def confirm_password_reset(
    body: PasswordResetConfirm, pool: PoolDep, hasher: HasherDep, credentials: CredentialsDep
) -> None:
    await lifecycle.confirm_password_reset(
        pool=pool, hasher=hasher, credentials=credentials, token=body.token, password=body.password
    )


@router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change your password (needs the current one); every session ends",
    responses=problem_responses(401, 422),
)
async def change_password(
    body: PasswordChange,
    session: CurrentSession,
    pool: PoolDep,
    hasher: HasherDep,
    credentials: CredentialsDep,
) -> None:
    claims, _ = session
    await lifecycle.change_password(
        pool=pool,
        hasher=hasher,
        credentials=credentials,
        account_id=claims.account_id,
        current_password=body.current_password,
        new_password=body.new_password,
    )


@router.post(
    "/email",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Change your email address: it takes effect once the new one is verified",
    responses=problem_responses(401, 422, 429),
)
async def change_email(
    body: EmailChange,
    session: CurrentSession,
    pool: PoolDep,
    hasher: HasherDep,
    matcher: MatcherDep,
    settings: SettingsDep,
) -> Accepted:
    claims, _ = session
    await lifecycle.request_email_change(
        pool=pool,
        hasher=hasher,
        matcher=matcher,
        settings=settings,
        account_id=claims.account_id,
        password=body.password,
        new_email=body.new_email,
    )
    return Accepted(detail="A verification link is on its way to the new address.")
