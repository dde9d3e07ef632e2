"""POST /v1/auth/totp (enrol) and /v1/auth/totp/confirm: the second factor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from convene_common.problems import problem_responses
from convene_gateway.accounts import repository as accounts
from convene_gateway.audit import service as audit
from convene_gateway.audit.service import Actor
from convene_gateway.auth import repository, second_factor
from convene_gateway.auth.dependencies import CurrentSession
from convene_gateway.dependencies import PoolDep, ThrottleDep
from convene_gateway.errors import ForbiddenError, InvalidCredentialsError

router = APIRouter(prefix="/v1/auth/totp", tags=["auth"])


class TotpEnrolment(BaseModel):
    secret: str = Field(description="base32, for manual entry")
    otpauth_uri: str = Field(description="otpauth://totp/... for a QR code")
    recovery_codes: list[str] = Field(description="one-time codes, shown only here")


class TotpConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$")]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Enrol a TOTP second factor (confirm it with a first code)",
    responses=problem_responses(401, 403, 422),
)
async def enrol(session: CurrentSession, pool: PoolDep, response: Response) -> TotpEnrolment:
    """Replacing a confirmed factor needs a session that passed it."""
    claims, _ = session
    async with pool.acquire() as connection:
        current = await second_factor.get(connection, account_id=claims.account_id)
        if current is not None and current.confirmed:
            passed = await repository.session_second_factor(
                connection, session_id=claims.session_id
            )
            if not passed:
                raise ForbiddenError("Sign in with your second factor to replace it.")
        account = await accounts.get_by_id(connection, account_id=claims.account_id)
        assert account is not None
        enrolment = await second_factor.enrol(
            connection, account_id=account.id, email=account.email
        )
    response.headers["Cache-Control"] = "no-store"
    return TotpEnrolment(
        secret=enrolment.secret,
        otpauth_uri=enrolment.otpauth_uri,
        recovery_codes=enrolment.recovery_codes,
    )


@router.post(
    "/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Confirm the enrolled factor with a current code; sign in again with it",
    responses=problem_responses(401, 422, 429),
)
async def confirm(
    body: TotpConfirm, session: CurrentSession, pool: PoolDep, throttle: ThrottleDep
) -> None:
    claims, _ = session
    await throttle.second_factor(claims.account_id)
    async with pool.acquire() as connection, connection.transaction():
        ok = await second_factor.check(
            connection, account_id=claims.account_id, code=body.code, allow_unconfirmed=True
        )
        if not ok:
            raise InvalidCredentialsError(
                "The code is incorrect or was already used.", challenge='Bearer realm="convene"'
            )
        await second_factor.mark_confirmed(connection, account_id=claims.account_id)
        await audit.record(
            connection,
            actor=Actor("account", claims.account_id),
            action="second_factor.enrolled",
            object_type="account",
            object_id=claims.account_id,
        )
