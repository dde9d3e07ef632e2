"""Routing batches at the gateway: who asks is recorded; a body only ever batches its own."""

from __future__ import annotations

import logging
import uuid

from convene_gateway.auth.schemas import AdminPrincipal, PublicBodyPrincipal
from convene_gateway.batch.schemas import AdminBatchCreate, BatchRead, BodyBatchCreate
from convene_gateway.clients.matcher_batch import MatcherBatchClient

logger = logging.getLogger("convene.gateway.batch")


def _log(batch: BatchRead) -> BatchRead:
    logger.info(
        "routing batch",
        extra={
            "batch_id": str(batch.id),
            "calls": len(batch.calls),
            "method": batch.method,
            "solve_ms": round(batch.solve_ms, 1),
            "unmet": batch.unmet,
        },
    )
    return batch


async def create_for_admin(
    *, matcher: MatcherBatchClient, admin: AdminPrincipal, body: AdminBatchCreate
) -> BatchRead:
    payload = {
        **body.model_dump(mode="json", exclude_none=True),
        "requested_by": f"admin:{admin.account_id}",
    }
    return _log(await matcher.create_batch(batch=payload))


async def create_for_body(
    *, matcher: MatcherBatchClient, body: PublicBodyPrincipal, request: BodyBatchCreate
) -> BatchRead:
    payload: dict[str, object] = {
        "public_body_id": str(body.organisation_id),
        "requested_by": body.actor,
        "time_limit_seconds": request.time_limit_seconds,
    }
    if request.call_ids is not None:
        payload["call_ids"] = [str(c) for c in request.call_ids]
    else:
        payload["open_calls"] = True
    return _log(await matcher.create_batch(batch=payload))


async def get_for_admin(*, matcher: MatcherBatchClient, batch_id: uuid.UUID) -> BatchRead:
    return await matcher.get_batch(batch_id=batch_id)


async def get_for_body(
    *, matcher: MatcherBatchClient, body: PublicBodyPrincipal, batch_id: uuid.UUID
) -> BatchRead:
    return await matcher.get_batch(batch_id=batch_id, public_body_id=body.organisation_id)
