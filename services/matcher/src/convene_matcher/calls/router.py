"""Internal calls API; the gateway passes the authenticated body as ``public_body_id``."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, status

from convene_common.problems import problem_responses
from convene_matcher.calls import lifecycle, service
from convene_matcher.calls.schemas import (
    CallCancel,
    CallCancelled,
    CallCreate,
    CallPage,
    CallRead,
    CallUpdate,
)
from convene_matcher.dependencies import ready_evidence
from convene_matcher.routing.schemas import MatchResult

router = APIRouter(prefix="/v1/calls", tags=["calls"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(400, 401, 422, 503),
)
async def create_call(
    body: CallCreate,
    request: Request,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> CallRead:
    """Creates a call; a replay with the same Idempotency-Key and body returns the same call."""
    key = service.check_idempotency_key(idempotency_key)
    evidence = ready_evidence(request)
    return await service.create_call(
        pool=request.app.state.pool,
        body=body,
        idempotency_key=key,
        roles=evidence.store.arrays,
    )


@router.get("", responses=problem_responses(400, 401, 422))
async def list_calls(
    request: Request,
    public_body_id: uuid.UUID,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    status: Literal["open", "closed", "cancelled"] | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> CallPage:
    """The body's own calls, newest first; ``status`` and a case-insensitive title filter."""
    return await service.list_calls(
        pool=request.app.state.pool,
        public_body_id=public_body_id,
        limit=limit,
        cursor=cursor,
        status=status,
        title_contains=q,
    )


@router.get("/{call_id}", responses=problem_responses(401, 404, 422))
async def get_call(call_id: uuid.UUID, public_body_id: uuid.UUID, request: Request) -> CallRead:
    """One of the body's own calls (another body's call is a 404)."""
    return await service.get_call(
        pool=request.app.state.pool, call_id=call_id, public_body_id=public_body_id
    )


@router.patch("/{call_id}", responses=problem_responses(400, 401, 404, 409, 422, 503))
async def update_call(
    call_id: uuid.UUID, public_body_id: uuid.UUID, body: CallUpdate, request: Request
) -> CallRead:
    """Changes an open call (validated like a new one); invitees are told of a new deadline,
    which may only move later once invitations exist."""
    return await lifecycle.update_call(
        pool=request.app.state.pool,
        call_id=call_id,
        public_body_id=public_body_id,
        changes=body,
        roles=ready_evidence(request).store.arrays,
    )


@router.post("/{call_id}/cancel", responses=problem_responses(401, 404, 409, 422))
async def cancel_call(
    call_id: uuid.UUID, public_body_id: uuid.UUID, body: CallCancel, request: Request
) -> CallCancelled:
    """Cancels an open call: pending invitations are withdrawn and their invitees told."""
    return await lifecycle.cancel_call(
        pool=request.app.state.pool,
        call_id=call_id,
        public_body_id=public_body_id,
        reason=body.reason,
    )


@router.get("/{call_id}/match", responses=problem_responses(401, 404, 422))
async def last_match(
    call_id: uuid.UUID, public_body_id: uuid.UUID, request: Request
) -> MatchResult:
    """The last match of the call, as it was answered (no routing again)."""
    return await lifecycle.last_match(
        pool=request.app.state.pool, call_id=call_id, public_body_id=public_body_id
    )
