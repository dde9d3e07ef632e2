"""Calls on a public body's behalf: the body is always the authenticated principal's.

The matcher owns calls; the gateway adds who is asking (organisation id and name, never taken
from the request), checks the Idempotency-Key's shape and forwards it, so a retried POST
returns the same call. The matcher scopes keys and reads to the body, so another body's call
is a 404 exactly as a missing one.
"""

from __future__ import annotations

import logging
import uuid

from convene_gateway.audit import service as audit
from convene_gateway.audit.service import Actor
from convene_gateway.auth.schemas import PublicBodyPrincipal
from convene_gateway.calls.errors import InvalidIdempotencyKeyError
from convene_gateway.calls.schemas import (
    CallCancelledRead,
    CallCreate,
    CallPage,
    CallRead,
    CallUpdate,
    MatchResult,
)
from convene_gateway.clients.matcher import MatcherClient
from convene_gateway.dependencies import Pool
from convene_gateway.errors import ForbiddenError
from convene_gateway.organisations import repository as organisations

logger = logging.getLogger("convene.gateway.calls")

MAX_IDEMPOTENCY_KEY_LENGTH = 128


def check_idempotency_key(key: str | None) -> str | None:
    """The key as given, or a 400 problem: 1 to 128 printable ASCII characters."""
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH or not all(" " <= ch <= "~" for ch in key):
        raise InvalidIdempotencyKeyError(
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters."
        )
    return key


async def _organisation_name(*, pool: Pool, organisation_id: uuid.UUID) -> str:
    async with pool.acquire() as connection:
        organisation = await organisations.get_organisation(
            connection, organisation_id=organisation_id
        )
    if organisation is None:
        # A live key of a deleted organisation: nothing may be posted in its name.
        raise ForbiddenError("The API key's organisation no longer exists.")
    return organisation.name


async def create_call(
    *,
    pool: Pool,
    matcher: MatcherClient,
    body: PublicBodyPrincipal,
    call: CallCreate,
    idempotency_key: str | None,
) -> CallRead:
    key = check_idempotency_key(idempotency_key)
    name = await _organisation_name(pool=pool, organisation_id=body.organisation_id)
    payload = {
        **call.model_dump(mode="json"),
        "public_body_id": str(body.organisation_id),
        "public_body_name": name,
        "created_by": body.actor,
    }
    created = await matcher.create_call(call=payload, idempotency_key=key)
    logger.info(
        "call created",
        extra={"call_id": str(created.id), "organisation_id": str(body.organisation_id)},
    )
    return created


async def get_call(
    *, matcher: MatcherClient, body: PublicBodyPrincipal, call_id: uuid.UUID
) -> CallRead:
    return await matcher.get_call(call_id=call_id, public_body_id=body.organisation_id)


async def list_calls(
    *,
    matcher: MatcherClient,
    body: PublicBodyPrincipal,
    limit: int,
    cursor: str | None,
    status: str | None = None,
    q: str | None = None,
) -> CallPage:
    return await matcher.list_calls(
        public_body_id=body.organisation_id, limit=limit, cursor=cursor, status=status, q=q
    )


async def update_call(
    *, matcher: MatcherClient, body: PublicBodyPrincipal, call_id: uuid.UUID, changes: CallUpdate
) -> CallRead:
    return await matcher.update_call(
        call_id=call_id,
        public_body_id=body.organisation_id,
        changes=changes.model_dump(mode="json", exclude_unset=True, exclude_none=True),
    )


async def cancel_call(
    *,
    pool: Pool,
    matcher: MatcherClient,
    body: PublicBodyPrincipal,
    call_id: uuid.UUID,
    reason: str,
) -> CallCancelledRead:
    cancelled = await matcher.cancel_call(
        call_id=call_id, public_body_id=body.organisation_id, reason=reason
    )
    await audit.record_now(
        pool=pool,
        actor=Actor.of(body),
        action="call.cancelled",
        object_type="call",
        object_id=call_id,
        detail={"withdrawn": cancelled.withdrawn},
    )
    return cancelled


async def last_match(
    *, matcher: MatcherClient, body: PublicBodyPrincipal, call_id: uuid.UUID
) -> MatchResult:
    return await matcher.last_match(call_id=call_id, public_body_id=body.organisation_id)


async def match_call(
    *, matcher: MatcherClient, body: PublicBodyPrincipal, call_id: uuid.UUID, seed: int | None
) -> MatchResult:
    result = await matcher.match_call(
        call_id=call_id, public_body_id=body.organisation_id, seed=seed
    )
    logger.info(
        "call matched",
        extra={
            "call_id": str(call_id),
            "organisation_id": str(body.organisation_id),
            "candidates": len(result.candidates),
            "panel": len(result.panel),
            "unmet": len(result.unmet),
        },
    )
    return result
