"""Webhook endpoints of public bodies and the admins' view of dead letters."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import asyncpg

from convene_common.cursors import decode_cursor, encode_cursor
from convene_matcher.config import MatcherSettings
from convene_matcher.notifications import repository, webhooks
from convene_matcher.notifications.errors import InvalidWebhookUrlError
from convene_matcher.notifications.schemas import (
    DeadLetter,
    DeadLetterPage,
    DeliveryAttempt,
    WebhookEndpointRead,
    WebhookEndpointUpdate,
)

logger = logging.getLogger("convene.matcher.notifications")


def allow_private_addresses(settings: MatcherSettings) -> bool:
    return settings.environment == "development" or settings.webhook_allow_private_addresses


async def set_webhook_endpoint(
    *,
    pool: asyncpg.Pool[Any],
    settings: MatcherSettings,
    public_body_id: uuid.UUID,
    body: WebhookEndpointUpdate,
) -> WebhookEndpointRead:
    try:
        await webhooks.check_url(body.url, allow_private=allow_private_addresses(settings))
    except webhooks.InvalidWebhookUrl as exc:
        raise InvalidWebhookUrlError(str(exc)) from exc
    async with pool.acquire() as connection:
        row, created = await repository.upsert_webhook_endpoint(
            connection,
            public_body_id=public_body_id,
            url=body.url,
            new_secret=webhooks.new_secret(),
        )
    logger.info("webhook endpoint set", extra={"public_body_id": str(public_body_id)})
    return WebhookEndpointRead(
        url=row["url"],
        secret=row["secret"] if created else None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def list_dead(*, pool: asyncpg.Pool[Any], limit: int, cursor: str | None) -> DeadLetterPage:
    before: int | None = None
    if cursor is not None:
        (value,) = decode_cursor(cursor, arity=1)
        before = int(value)
    async with pool.acquire() as connection:
        rows = await repository.list_dead(connection, limit=limit + 1, before_id=before)
        items = []
        for row in rows[:limit]:
            attempts = await repository.deliveries_of(connection, notification_id=row["id"])
            items.append(
                DeadLetter(
                    id=row["id"],
                    kind=row["kind"],
                    channel=row["channel"],
                    delivery_id=row["delivery_id"],
                    attempts=row["attempts"],
                    last_error=row["last_error"],
                    created_at=row["created_at"],
                    deliveries=[DeliveryAttempt.model_validate(dict(a)) for a in attempts],
                )
            )
    next_cursor = encode_cursor([items[-1].id]) if len(rows) > limit else None
    return DeadLetterPage(items=items, next_cursor=next_cursor)
