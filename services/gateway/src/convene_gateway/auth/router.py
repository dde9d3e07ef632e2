"""POST /v1/auth/token: the OAuth2 password flow for citizens and admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from convene_common.problems import problem_responses
from convene_gateway.auth import service
from convene_gateway.auth.schemas import TokenRead
from convene_gateway.dependencies import HasherDep, PoolDep, SettingsDep

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post(
    "/token",
    summary="Exchange email and password for a bearer token",
    responses=problem_responses(401, 422),
)
async def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    pool: PoolDep,
    hasher: HasherDep,
    settings: SettingsDep,
) -> TokenRead:
    issued = await service.login(
        pool=pool,
        hasher=hasher,
        settings=settings,
        email=form.username.strip(),
        password=form.password,
    )
    return TokenRead(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        scope=" ".join(issued.scopes),
    )
