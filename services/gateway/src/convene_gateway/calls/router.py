"""Public-body routes for calls for expertise: an API key (X-API-Key) or a staff member's
bearer token; the key's or the member's organisation is the body.

Scopes: reading calls needs calls:read; posting a call and matching it need calls:write,
because matching records the shortlist (which invitations resolve) and the exposure ledger
that damps how often the same people are put forward.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, status

from convene_common.problems import problem_responses
from convene_gateway.auth.dependencies import require_public_body
from convene_gateway.auth.schemas import PublicBodyPrincipal
from convene_gateway.calls import service
from convene_gateway.calls.schemas import (
    CallCancel,
    CallCancelledRead,
    CallCreate,
    CallPage,
    CallRead,
    CallUpdate,
    MatchRequest,
    MatchResult,
)
from convene_gateway.dependencies import MatcherDep, PoolDep

DOWNSTREAM = (502, 503, 504)
AUTHED = (401, 403, 422, *DOWNSTREAM)

CallsReader = Annotated[PublicBodyPrincipal, Depends(require_public_body("calls:read"))]
CallsWriter = Annotated[PublicBodyPrincipal, Depends(require_public_body("calls:write"))]

# {call_id:uuid}: only a UUID is a call id, so /v1/calls/routing-batches never matches these
# routes (its 405s list only its own methods).
router = APIRouter(prefix="/v1/calls", tags=["calls"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Post a call for expertise",
    responses=problem_responses(400, 413, *AUTHED),
)
async def create_call(
    call: CallCreate,
    body: CallsWriter,
    pool: PoolDep,
    matcher: MatcherDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Makes retries safe: a repeat with the same key and body returns the "
            "same call; the same key with another body is a 422. 1 to 128 printable ASCII "
            "characters.",
        ),
    ] = None,
) -> CallRead:
    return await service.create_call(
        pool=pool, matcher=matcher, body=body, call=call, idempotency_key=idempotency_key
    )


@router.get("", summary="Your calls, newest first", responses=problem_responses(400, *AUTHED))
async def list_calls(
    body: CallsReader,
    matcher: MatcherDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512, description="next_cursor, as given")] = (
        None
    ),
    status: Annotated[
        Literal["open", "closed", "cancelled"] | None, Query(description="Only calls in it")
    ] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="Text in the title (any case)"),
    ] = None,
) -> CallPage:
    return await service.list_calls(
        matcher=matcher, body=body, limit=limit, cursor=cursor, status=status, q=q
    )


@router.get(
    "/{call_id:uuid}", summary="One of your calls", responses=problem_responses(404, *AUTHED)
)
async def get_call(call_id: uuid.UUID, body: CallsReader, matcher: MatcherDep) -> CallRead:
    return await service.get_call(matcher=matcher, body=body, call_id=call_id)


@router.post(
    "/{call_id:uuid}/match",
    summary="Route a call: explained, pseudonymous candidates and a diverse panel",
    responses=problem_responses(404, *AUTHED),
)
async def match_call(
    call_id: uuid.UUID,
    body: CallsWriter,
    matcher: MatcherDep,
    request: MatchRequest | None = None,
) -> MatchResult:
    """Ranks candidates (each with the evidence that matched and the score's parts), selects a
    panel under the call's role quotas, and reports each quota it could not meet with a
    reason. Candidates are pseudonymous refs: no names, contact details or places."""
    seed = request.seed if request is not None else None
    return await service.match_call(matcher=matcher, body=body, call_id=call_id, seed=seed)


@router.patch(
    "/{call_id:uuid}",
    summary="Change an open call (title, description, questions, deadline, panel, quotas)",
    responses=problem_responses(400, 404, 409, *AUTHED),
)
async def update_call(
    call_id: uuid.UUID, changes: CallUpdate, body: CallsWriter, matcher: MatcherDep
) -> CallRead:
    """Validated like a new call. Once invitations exist the deadline may only move later;
    invitees are told of a new deadline."""
    return await service.update_call(matcher=matcher, body=body, call_id=call_id, changes=changes)


@router.post(
    "/{call_id:uuid}/cancel",
    summary="Cancel an open call: pending invitations are withdrawn, invitees told",
    responses=problem_responses(404, 409, *AUTHED),
)
async def cancel_call(
    call_id: uuid.UUID,
    request: CallCancel,
    body: CallsWriter,
    matcher: MatcherDep,
    pool: PoolDep,
) -> CallCancelledRead:
    return await service.cancel_call(
        pool=pool, matcher=matcher, body=body, call_id=call_id, reason=request.reason
    )


@router.get(
    "/{call_id:uuid}/match",
    summary="The call's last match, as answered (no routing again)",
    responses=problem_responses(404, *AUTHED),
)
async def last_match(call_id: uuid.UUID, body: CallsReader, matcher: MatcherDep) -> MatchResult:
    return await service.last_match(matcher=matcher, body=body, call_id=call_id)
