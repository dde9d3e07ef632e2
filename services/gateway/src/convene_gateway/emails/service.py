"""Queues account emails in the matcher's outbox through the typed client.

Called after the state change is committed. Queuing is idempotent (the key names the token
it carries), and a failure is logged, never raised: the account holder can ask again (resend
the verification, repeat the reset, the manager re-invites), and the answer to the request
must not depend on whether an email could be queued (it would tell which addresses exist).
"""

from __future__ import annotations

import logging
import uuid

from convene_gateway.clients.matcher import MatcherClient
from convene_gateway.clients.matcher_schemas import AccountEmail
from convene_gateway.emails.messages import Message
from convene_gateway.errors import DownstreamError, GatewayError

logger = logging.getLogger("convene.gateway.emails")


async def send(
    *,
    matcher: MatcherClient,
    message: Message,
    to: str,
    idempotency_key: str,
    account_id: uuid.UUID | None = None,
) -> bool:
    try:
        await matcher.queue_email(
            email=AccountEmail(
                kind=message.kind,
                to=to,
                subject=message.subject,
                text=message.text,
                html=message.html,
                idempotency_key=idempotency_key,
                recipient_id=account_id,
            )
        )
    # Downstream failures are convene_common's ServiceErrors, not GatewayErrors: both here.
    except (GatewayError, DownstreamError) as exc:
        logger.warning(
            "account email not queued", extra={"kind": message.kind, "status": exc.status}
        )
        return False
    return True
