"""Contribution routes: citizens (bearer) write their own; a body (X-API-Key) reads its call's.

Withdrawing is ``DELETE /v1/me/invitations/{id}/contribution`` (204)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from convene_common.problems import problem_responses
from convene_gateway.auth.dependencies import CurrentCitizen
from convene_gateway.contributions import service
from convene_gateway.contributions.schemas import (
    BodyContributionList,
    ContributionRead,
    ContributionWrite,
)
from convene_gateway.dependencies import MatcherDep, PoolDep, ProfilesDep
from convene_gateway.invitations.router import AUTHED, Reader

router = APIRouter(tags=["contributions"])

_MINE = "/v1/me/invitations/{invitation_id}/contribution"


@router.post(
    _MINE,
    summary="Submit or replace your contribution (accepted invitations, until the deadline)",
    description="Answers answer the call's own questions (each at most 10,000 characters), "
    "with an optional general comment. Replaces any earlier submission whole. After the "
    "deadline, or once the body has rated it, a 409 problem says why.",
    responses=problem_responses(404, 409, *AUTHED),
)
async def submit(
    invitation_id: uuid.UUID,
    contribution: ContributionWrite,
    citizen: CurrentCitizen,
    matcher: MatcherDep,
) -> ContributionRead:
    return await service.client(matcher).submit_contribution(
        citizen_id=citizen.citizen_id,
        invitation_id=invitation_id,
        body=contribution.model_dump(mode="json", exclude_none=True),
    )


@router.get(_MINE, summary="Your contribution", responses=problem_responses(404, *AUTHED))
async def get_mine(
    invitation_id: uuid.UUID, citizen: CurrentCitizen, matcher: MatcherDep
) -> ContributionRead:
    return await service.client(matcher).get_contribution(
        citizen_id=citizen.citizen_id, invitation_id=invitation_id
    )


@router.delete(
    _MINE,
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Withdraw your contribution (until the deadline, and until it is rated)",
    responses=problem_responses(404, 409, *AUTHED),
)
async def withdraw(
    invitation_id: uuid.UUID, citizen: CurrentCitizen, matcher: MatcherDep
) -> Response:
    await service.client(matcher).withdraw_contribution(
        citizen_id=citizen.citizen_id, invitation_id=invitation_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/v1/calls/{call_id:uuid}/contributions",
    summary="Contributions to your call (under each contributor's ref)",
    description="Name and email appear only when the citizen accepted and consents to contact.",
    responses=problem_responses(404, *AUTHED),
)
async def list_for_call(
    call_id: uuid.UUID, body: Reader, matcher: MatcherDep, profiles: ProfilesDep, pool: PoolDep
) -> BodyContributionList:
    return await service.list_for_call(
        call_id=call_id, body=body, matcher=matcher, profiles=profiles, pool=pool
    )
