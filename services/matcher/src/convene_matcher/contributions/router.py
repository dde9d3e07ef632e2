"""Internal contribution routes. The gateway authenticates and passes the principal's id:
``public_body_id`` (query) for bodies, ``citizen_id`` (path) for citizens."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from convene_common.problems import problem_responses
from convene_matcher.contributions import service
from convene_matcher.contributions.schemas import (
    BodyContributionList,
    ContributionRead,
    ContributionWrite,
)
from convene_matcher.dependencies import PoolDep

router = APIRouter(prefix="/v1", tags=["contributions"])

_CITIZEN = "/citizens/{citizen_id}/invitations/{invitation_id}/contribution"


@router.post(_CITIZEN, responses=problem_responses(401, 404, 409, 422))
async def submit(
    citizen_id: uuid.UUID, invitation_id: uuid.UUID, body: ContributionWrite, pool: PoolDep
) -> ContributionRead:
    """Creates or replaces the contribution of an accepted invitation (until the deadline)."""
    return await service.submit(
        pool=pool, citizen_id=citizen_id, invitation_id=invitation_id, body=body
    )


@router.get(_CITIZEN, responses=problem_responses(401, 404, 422))
async def get(citizen_id: uuid.UUID, invitation_id: uuid.UUID, pool: PoolDep) -> ContributionRead:
    return await service.get(pool=pool, citizen_id=citizen_id, invitation_id=invitation_id)


@router.delete(
    _CITIZEN, status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(401, 404, 409)
)
async def withdraw(citizen_id: uuid.UUID, invitation_id: uuid.UUID, pool: PoolDep) -> Response:
    await service.withdraw(pool=pool, citizen_id=citizen_id, invitation_id=invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/calls/{call_id}/contributions", responses=problem_responses(401, 404, 422))
async def list_for_call(
    call_id: uuid.UUID, public_body_id: uuid.UUID, pool: PoolDep
) -> BodyContributionList:
    return await service.list_for_call(pool=pool, call_id=call_id, public_body_id=public_body_id)
