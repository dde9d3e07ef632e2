"""Internal routes: a body's webhook endpoint; the admins' dead letters."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from convene_common.problems import problem_responses
from convene_matcher.notifications import account_emails, service
from convene_matcher.notifications.schemas import (
    AccountEmailCreate,
    AccountEmailQueued,
    DeadLetterPage,
    WebhookEndpointRead,
    WebhookEndpointUpdate,
)

router = APIRouter(prefix="/v1", tags=["notifications"])


@router.put("/organisations/{public_body_id}/webhook", responses=problem_responses(401, 422))
async def set_webhook(
    public_body_id: uuid.UUID, body: WebhookEndpointUpdate, request: Request
) -> WebhookEndpointRead:
    """Sets the body's webhook URL; the signing secret is returned once, on first set."""
    return await service.set_webhook_endpoint(
        pool=request.app.state.pool,
        settings=request.app.state.settings,
        public_body_id=public_body_id,
        body=body,
    )


@router.get("/notifications/dead", responses=problem_responses(400, 401, 422))
async def dead_letters(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> DeadLetterPage:
    """Notifications that failed max_attempts times, newest first, with every attempt."""
    return await service.list_dead(pool=request.app.state.pool, limit=limit, cursor=cursor)


@router.post(
    "/notifications/emails",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(401, 422),
)
async def queue_account_email(body: AccountEmailCreate, request: Request) -> AccountEmailQueued:
    """Queues an email to an explicit address (the gateway's account emails); the worker
    sends it. A repeat with the same idempotency_key answers the first delivery id."""
    return await account_emails.enqueue(pool=request.app.state.pool, body=body)
