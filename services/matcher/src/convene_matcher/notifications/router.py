"""Internal routes: a body's webhook endpoint; the admins' dead letters."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from convene_common.problems import problem_responses
from convene_matcher.notifications import service
from convene_matcher.notifications.schemas import (
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
