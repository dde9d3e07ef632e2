"""POST /v1/auth/...: sign-in (OAuth2 password flow), refresh, sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from convene_common.problems import problem_responses
from convene_gateway.auth import service
from convene_gateway.auth.dependencies import CurrentSession
from convene_gateway.auth.schemas import RefreshedTokenRead, TokenRead
from convene_gateway.dependencies import (
    CredentialsDep,
    HasherDep,
    PoolDep,
    SettingsDep,
    ThrottleDep,
)

router = APIRouter(prefix="/v1/auth", tags=["auth"])


def _no_store(response: Response) -> None:
    # Tokens must not linger in shared caches.
    response.headers["Cache-Control"] = "no-store"


@router.post(
    "/token",
    summary="Exchange email and password (and an admin's TOTP code) for tokens",
    responses=problem_responses(401, 422, 429),
)
async def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    pool: PoolDep,
    hasher: HasherDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    response: Response,
    totp: Annotated[
        str | None,
        Form(
            max_length=20,
            description="The second factor, once enrolled (required for admins): a current "
            "6-digit TOTP code or a recovery code.",
        ),
    ] = None,
) -> TokenRead:
    """An account with a second factor that omits `totp` gets 401 second-factor-required;
    sign-in attempts are rate-limited per account and per address (429)."""
    issued = await service.sign_in(
        pool=pool,
        hasher=hasher,
        settings=settings,
        throttle=throttle,
        email=form.username.strip(),
        password=form.password,
        totp=totp,
    )
    _no_store(response)
    return TokenRead(
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in=issued.expires_in,
        scope=" ".join(issued.scopes),
    )


@router.post(
    "/refresh",
    summary="Exchange a refresh token (single use) for a new access and refresh token",
    responses=problem_responses(401, 422),
)
async def refresh_token(
    refresh_token: Annotated[str, Form(min_length=1, max_length=200)],
    pool: PoolDep,
    settings: SettingsDep,
    credentials: CredentialsDep,
    response: Response,
) -> RefreshedTokenRead:
    """A refresh token used a second time ends its whole session (every token of it)."""
    issued = await service.refresh(
        pool=pool, settings=settings, credentials=credentials, refresh_token=refresh_token
    )
    _no_store(response)
    return RefreshedTokenRead(
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in=issued.expires_in,
    )


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Sign out: this session's access and refresh tokens stop working at once",
    responses=problem_responses(401, 422),
)
async def logout(session: CurrentSession, pool: PoolDep, credentials: CredentialsDep) -> None:
    claims, _ = session
    await service.logout(
        pool=pool,
        credentials=credentials,
        account_id=claims.account_id,
        session_id=claims.session_id,
        everywhere=False,
    )


@router.post(
    "/logout-everywhere",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Sign out everywhere: every session of your account ends at once",
    responses=problem_responses(401, 422),
)
async def logout_everywhere(
    session: CurrentSession, pool: PoolDep, credentials: CredentialsDep
) -> None:
    claims, _ = session
    await service.logout(
        pool=pool,
        credentials=credentials,
        account_id=claims.account_id,
        session_id=claims.session_id,
        everywhere=True,
    )
