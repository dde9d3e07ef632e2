"""Internal invitation routes. The gateway authenticates and passes the principal's id:
``public_body_id`` (query) for bodies, ``citizen_id`` (path) for citizens."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, status

from convene_common.problems import problem_responses
from convene_matcher.calls.service import check_idempotency_key
from convene_matcher.invitations import answers, closing, inviting, rating, throttle, views
from convene_matcher.invitations.dependencies import (
    PoolDep,
    ProfilesDep,
    SettingsDep,
    StoreDep,
)
from convene_matcher.invitations.schemas import (
    AcceptRequest,
    BodyStats,
    CitizenInvitationDetail,
    CitizenInvitationPage,
    CloseRequest,
    CloseResult,
    DeclineRequest,
    InvitationBatch,
    InvitationBodyRead,
    InvitationCreate,
    InvitationList,
    RatingCreate,
    RatingRead,
)

router = APIRouter(prefix="/v1", tags=["invitations"])


# -- public bodies ----------------------------------------------------------------------
@router.post(
    "/calls/{call_id}/invitations",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(400, 401, 404, 409, 422, 429, 503),
)
async def invite(
    call_id: uuid.UUID,
    public_body_id: uuid.UUID,
    pool: PoolDep,
    store: StoreDep,
    settings: SettingsDep,
    body: InvitationCreate | None = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> InvitationBatch:
    """Invites the proposed panel (or ``refs``); re-checks consent, availability and caps."""
    key = check_idempotency_key(idempotency_key)
    return await inviting.invite(
        pool=pool,
        store=store,
        settings=settings,
        call_id=call_id,
        public_body_id=public_body_id,
        body=body or InvitationCreate(),
        idempotency_key=key,
    )


@router.get("/calls/{call_id}/invitations", responses=problem_responses(401, 404, 422))
async def list_invitations(
    call_id: uuid.UUID, public_body_id: uuid.UUID, pool: PoolDep
) -> InvitationList:
    return await views.list_for_call(pool=pool, call_id=call_id, public_body_id=public_body_id)


@router.post(
    "/calls/{call_id}/invitations/{invitation_id}/withdraw",
    responses=problem_responses(401, 404, 409, 422),
)
async def withdraw_invitation(
    call_id: uuid.UUID, invitation_id: uuid.UUID, public_body_id: uuid.UUID, pool: PoolDep
) -> InvitationBodyRead:
    """Withdraws one pending or accepted invitation before the deadline; the citizen is told."""
    return await closing.withdraw(
        pool=pool, call_id=call_id, public_body_id=public_body_id, invitation_id=invitation_id
    )


@router.post(
    "/calls/{call_id}/contributions/{ref}/rating",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 404, 409, 422, 503),
)
async def rate_contribution(
    call_id: uuid.UUID,
    ref: str,
    public_body_id: uuid.UUID,
    body: RatingCreate,
    pool: PoolDep,
    profiles: ProfilesDep,
) -> RatingRead:
    return await rating.rate(
        pool=pool,
        profiles=profiles,
        call_id=call_id,
        public_body_id=public_body_id,
        ref=ref,
        body=body,
    )


@router.post("/calls/{call_id}/close", responses=problem_responses(401, 404, 409, 422))
async def close_call(
    call_id: uuid.UUID, public_body_id: uuid.UUID, body: CloseRequest, pool: PoolDep
) -> CloseResult:
    return await closing.close(pool=pool, call_id=call_id, public_body_id=public_body_id, body=body)


@router.get(
    "/organisations/{public_body_id}/invitation-stats", responses=problem_responses(401, 422)
)
async def body_stats(public_body_id: uuid.UUID, pool: PoolDep, settings: SettingsDep) -> BodyStats:
    return await throttle.body_stats(pool=pool, settings=settings, public_body_id=public_body_id)


# -- citizens ---------------------------------------------------------------------------
@router.get("/citizens/{citizen_id}/invitations", responses=problem_responses(400, 401, 422))
async def citizen_invitations(
    citizen_id: uuid.UUID,
    pool: PoolDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> CitizenInvitationPage:
    return await views.list_for_citizen(
        pool=pool, citizen_id=citizen_id, limit=limit, cursor=cursor
    )


@router.get(
    "/citizens/{citizen_id}/invitations/{invitation_id}",
    responses=problem_responses(401, 404, 422),
)
async def citizen_invitation(
    citizen_id: uuid.UUID, invitation_id: uuid.UUID, pool: PoolDep
) -> CitizenInvitationDetail:
    return await views.get_for_citizen(
        pool=pool, citizen_id=citizen_id, invitation_id=invitation_id
    )


@router.post(
    "/citizens/{citizen_id}/invitations/{invitation_id}/accept",
    responses=problem_responses(401, 404, 409, 422, 503),
)
async def accept(
    citizen_id: uuid.UUID,
    invitation_id: uuid.UUID,
    pool: PoolDep,
    store: StoreDep,
    body: AcceptRequest | None = None,
) -> CitizenInvitationDetail:
    """Accepts (409 ``hours-per-month-exceeded`` when the month's hours are taken)."""
    return await answers.accept(
        pool=pool,
        store=store,
        citizen_id=citizen_id,
        invitation_id=invitation_id,
        body=body or AcceptRequest(),
    )


@router.post(
    "/citizens/{citizen_id}/invitations/{invitation_id}/decline",
    responses=problem_responses(401, 404, 409, 422),
)
async def decline(
    citizen_id: uuid.UUID,
    invitation_id: uuid.UUID,
    pool: PoolDep,
    body: DeclineRequest | None = None,
) -> CitizenInvitationDetail:
    return await answers.decline(
        pool=pool,
        citizen_id=citizen_id,
        invitation_id=invitation_id,
        body=body or DeclineRequest(),
    )


@router.post(
    "/citizens/{citizen_id}/invitations/{invitation_id}/follow-outcome",
    responses=problem_responses(401, 404, 409, 422),
)
async def follow_outcome(
    citizen_id: uuid.UUID, invitation_id: uuid.UUID, pool: PoolDep
) -> CitizenInvitationDetail:
    """A citizen who declined asks to be emailed the outcome when the call closes."""
    return await answers.follow_outcome(
        pool=pool, citizen_id=citizen_id, invitation_id=invitation_id
    )


@router.post(
    "/citizens/{citizen_id}/invitations/{invitation_id}/undo",
    responses=problem_responses(401, 404, 409, 422),
)
async def undo(
    citizen_id: uuid.UUID, invitation_id: uuid.UUID, pool: PoolDep
) -> CitizenInvitationDetail:
    return await answers.undo(pool=pool, citizen_id=citizen_id, invitation_id=invitation_id)
