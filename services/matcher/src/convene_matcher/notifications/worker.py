"""The notification sender: ``python -m convene_matcher.notifications.worker``.

Delivery is at-least-once with an idempotent delivery id, and the duplicate window is as
small as it can be made without the receiver's help:

1. a sender task opens a transaction and locks ONE due row
   (``SELECT ... FOR UPDATE SKIP LOCKED``: tasks and processes never share a row);
2. it builds the message (the email address is fetched from profiles now; erased citizens
   are dropped) and sends it (SMTP on a kept-open connection, or a signed webhook POST);
3. as soon as the receiver accepted it (SMTP 250 / HTTP 2xx) the row is marked ``sent`` and
   the transaction commits.

A crash before 3 rolls back: the lock is released and the row is sent again by the next
worker. Only a crash between the receiver's acceptance and the commit (one UPDATE and
COMMIT on loopback, well under a millisecond of work) re-sends a message the receiver
already has; it carries the same delivery id (email Message-ID, webhook-id), so an
idempotent receiver drops it. Failures are retried with exponential backoff and jitter and
become dead letters after ``notify_max_attempts``; every attempt is logged in
``notification_delivery``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosmtplib
import asyncpg
import httpx

from convene_common.db import create_pool
from convene_common.internal_auth import INTERNAL_TOKEN_HEADER
from convene_common.logging import configure_logging
from convene_matcher.invitations import repository as invitations_repository
from convene_matcher.notifications import account_emails, messages, repository, webhooks
from convene_matcher.notifications.config import NotificationSettings

logger = logging.getLogger("convene.matcher.notifications.worker")


class DropError(Exception):
    """The notification can never be delivered and must not be retried (e.g. erased)."""


class DeliveryError(Exception):
    """This attempt failed; the row is retried later (the message is safe to log)."""


def backoff_seconds(attempt: int, *, base: float, maximum: float) -> float:
    """Exponential with equal jitter: half fixed, half random (never a retry storm at 0)."""
    delay = float(min(maximum, base * 2.0 ** max(attempt - 1, 0)))
    return delay / 2 + random.uniform(0, delay / 2)


class Sender:
    """One sender task's SMTP connection, opened lazily and kept for the next message."""

    def __init__(self, settings: NotificationSettings) -> None:
        self._settings = settings
        self._smtp: aiosmtplib.SMTP | None = None

    async def send_email(self, message: Any) -> None:
        settings = self._settings
        for attempt in (1, 2):
            if self._smtp is None or not self._smtp.is_connected:
                self._smtp = aiosmtplib.SMTP(
                    hostname=settings.smtp_host,
                    port=settings.smtp_port,
                    timeout=settings.smtp_timeout_seconds,
                    start_tls=settings.smtp_start_tls,
                    username=settings.smtp_username,
                    password=(
                        settings.smtp_password.get_secret_value()
                        if settings.smtp_password
                        else None
                    ),
                )
                try:
                    await self._smtp.connect()
                except (aiosmtplib.SMTPException, OSError) as exc:
                    self._smtp = None
                    raise DeliveryError(f"SMTP connect failed: {type(exc).__name__}") from exc
            try:
                await self._smtp.send_message(message)
                return
            except aiosmtplib.SMTPServerDisconnected as exc:
                # A kept-open connection the server closed: nothing was accepted; reconnect once.
                await self.close()
                if attempt == 2:
                    raise DeliveryError("SMTP server disconnected") from exc
            except (aiosmtplib.SMTPException, OSError) as exc:
                await self.close()
                raise DeliveryError(f"SMTP refused: {type(exc).__name__}: {exc}"[:500]) from exc

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None and smtp.is_connected:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await smtp.quit()


class NotificationWorker:
    def __init__(
        self,
        settings: NotificationSettings,
        *,
        pool: asyncpg.Pool[Any],
        profiles: httpx.AsyncClient,
        webhook_http: httpx.AsyncClient,
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.profiles = profiles
        self.webhook_http = webhook_http
        self.stopping = asyncio.Event()
        token = settings.internal_token
        self._profiles_headers = (
            {INTERNAL_TOKEN_HEADER: token.get_secret_value()} if token is not None else {}
        )

    # -- one row ---------------------------------------------------------------------------
    async def send_one(self, sender: Sender) -> bool:
        """Sends the next due row; False when none is due."""
        async with self.pool.acquire() as connection, connection.transaction():
            row = await repository.claim_due(connection, now=datetime.now(UTC))
            if row is None:
                return False
            attempt = row["attempts"] + 1
            try:
                await self._deliver(connection, row=row, sender=sender)
            except DropError as exc:
                await repository.mark_dropped(
                    connection, notification_id=row["id"], attempt=attempt, reason=str(exc)
                )
                logger.info("notification dropped", extra={"notification_id": row["id"]})
                return True
            except DeliveryError as exc:
                await self._failed(connection, row=row, attempt=attempt, error=str(exc))
                return True
            # Accepted by the receiver: commit 'sent' now (the only duplicate window).
            await repository.mark_sent(connection, notification_id=row["id"], attempt=attempt)
        logger.debug("notification sent", extra={"notification_id": row["id"]})
        return True

    async def _failed(
        self, connection: repository.Connection, *, row: asyncpg.Record, attempt: int, error: str
    ) -> None:
        settings = self.settings
        retry_at: datetime | None = None
        if attempt < settings.notify_max_attempts:
            retry_at = datetime.now(UTC) + timedelta(
                seconds=backoff_seconds(
                    attempt,
                    base=settings.notify_backoff_base_seconds,
                    maximum=settings.notify_backoff_max_seconds,
                )
            )
        await repository.mark_failed(
            connection, notification_id=row["id"], attempt=attempt, error=error, retry_at=retry_at
        )
        logger.warning(
            "notification failed" if retry_at else "notification dead",
            extra={"notification_id": row["id"], "attempt": attempt, "kind": row["kind"]},
        )

    async def _deliver(
        self, connection: repository.Connection, *, row: asyncpg.Record, sender: Sender
    ) -> None:
        payload = row["payload"]
        delivery_id = str(row["delivery_id"])
        if row["kind"] == account_emails.ACCOUNT_EMAIL:
            account_message = await account_emails.message_for(
                connection,
                notification_id=row["id"],
                sender=self.settings.smtp_from,
                delivery_id=delivery_id,
            )
            if account_message is None:
                raise DropError("account email already sent or missing")
            await sender.send_email(account_message)
            await account_emails.forget(connection, notification_id=row["id"])
            return
        if row["channel"] == "email":
            context = await repository.message_context(
                connection, invitation_id=payload["invitation_id"]
            )
            if context is None:
                raise DropError("invitation no longer exists")
            if row["kind"] == "reminder" and context["status"] != "pending":
                raise DropError("invitation already answered")
            if row["kind"] == "invitation" and context["status"] == "withdrawn":
                raise DropError("invitation withdrawn")
            if row["kind"] == "withdrawn" and await repository.invitation_email_dropped(
                connection, invitation_id=payload["invitation_id"]
            ):
                raise DropError("the invitation email was never sent")
            email, name = await self._recipient(str(row["recipient_id"]))
            message = messages.email_for(
                kind=row["kind"],
                context=context,
                to=email,
                display_name=name,
                sender=self.settings.smtp_from,
                delivery_id=delivery_id,
                public_url=self.settings.public_url,
            )
            await sender.send_email(message)
            return
        await self._send_webhook(connection, row=row, payload=payload, delivery_id=delivery_id)

    async def _recipient(self, citizen_id: str) -> tuple[str, str | None]:
        try:
            response = await self.profiles.get(
                f"/v1/citizens/{citizen_id}", headers=self._profiles_headers
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"profiles unreachable: {type(exc).__name__}") from exc
        if response.status_code in (404, 410):
            raise DropError("citizen erased")
        if response.status_code != 200:
            raise DeliveryError(f"profiles answered {response.status_code}")
        citizen = response.json()
        email = citizen.get("email")
        if not email:
            raise DropError("citizen has no email")
        return str(email), citizen.get("display_name")

    async def _send_webhook(
        self,
        connection: repository.Connection,
        *,
        row: asyncpg.Record,
        payload: dict[str, Any],
        delivery_id: str,
    ) -> None:
        endpoint = await repository.get_webhook_endpoint(
            connection, public_body_id=row["recipient_id"]
        )
        if endpoint is None:
            raise DropError("no webhook endpoint")
        allow_private = (
            self.settings.environment == "development"
            or self.settings.webhook_allow_private_addresses
        )
        try:
            # Checked again at send time: DNS may have changed since the URL was set.
            await webhooks.check_url(endpoint["url"], allow_private=allow_private)
        except webhooks.InvalidWebhookUrl as exc:
            raise DeliveryError(f"webhook URL refused: {exc}") from exc
        body, headers = webhooks.signed_request(
            secret=endpoint["secret"],
            message_id=delivery_id,
            payload=messages.webhook_payload(
                payload=payload, delivery_id=delivery_id, created_at=row["created_at"].isoformat()
            ),
        )
        try:
            response = await self.webhook_http.post(endpoint["url"], content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook unreachable: {type(exc).__name__}") from exc
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"webhook answered {response.status_code}")

    # -- reminders -------------------------------------------------------------------------
    async def enqueue_reminders(self) -> int:
        before = timedelta(hours=self.settings.reminder_before_hours)
        async with self.pool.acquire() as connection, connection.transaction():
            due = await invitations_repository.due_reminders(
                connection, now=datetime.now(UTC), before=before
            )
            await repository.enqueue_many(
                connection,
                rows=[
                    ("reminder", "email", row["citizen_id"], {"invitation_id": str(row["id"])})
                    for row in due
                ],
            )
            await invitations_repository.mark_reminded(
                connection, invitation_ids=[row["id"] for row in due]
            )
        if due:
            logger.info("reminders enqueued", extra={"count": len(due)})
        return len(due)

    # -- loops -----------------------------------------------------------------------------
    async def run_sender(self, name: str) -> None:
        sender = Sender(self.settings)
        try:
            while not self.stopping.is_set():
                try:
                    sent = await self.send_one(sender)
                except (asyncpg.PostgresError, OSError) as exc:
                    logger.warning(
                        "sender error", extra={"sender": name, "error_type": type(exc).__name__}
                    )
                    sent = False
                if not sent:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self.stopping.wait(), timeout=self.settings.notify_poll_seconds
                        )
        finally:
            await sender.close()

    async def run_reminders(self) -> None:
        while not self.stopping.is_set():
            try:
                await self.enqueue_reminders()
            except (asyncpg.PostgresError, OSError) as exc:
                logger.warning("reminder error", extra={"error_type": type(exc).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self.stopping.wait(), timeout=self.settings.reminder_check_seconds
                )

    async def run(self) -> None:
        tasks = [
            asyncio.create_task(self.run_sender(f"sender-{i}"), name=f"sender-{i}")
            for i in range(self.settings.notify_senders)
        ]
        tasks.append(asyncio.create_task(self.run_reminders(), name="reminders"))
        logger.info("notification worker started", extra={"senders": self.settings.notify_senders})
        try:
            await asyncio.gather(*tasks)
        finally:
            self.stopping.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def drain(self, *, max_rounds: int = 10_000) -> int:
        """Sends every due row with one sender (tests and one-shot use); returns the count."""
        sender = Sender(self.settings)
        count = 0
        try:
            for _ in range(max_rounds):
                if not await self.send_one(sender):
                    break
                count += 1
        finally:
            await sender.close()
        return count


def http_clients(
    settings: NotificationSettings, *, profiles_transport: httpx.AsyncBaseTransport | None = None
) -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
    profiles = httpx.AsyncClient(
        base_url=settings.profiles_url,
        transport=profiles_transport,
        timeout=settings.profiles_timeout_seconds,
    )
    webhook_http = httpx.AsyncClient(
        timeout=settings.webhook_timeout_seconds, follow_redirects=False
    )
    return profiles, webhook_http


async def main(settings: NotificationSettings) -> None:
    pool = await create_pool(
        settings.dsn(),
        schema=settings.database_schema,
        min_size=1,
        max_size=max(settings.database_pool_max, settings.notify_senders + 2),
    )
    profiles, webhook_http = http_clients(settings)
    worker = NotificationWorker(settings, pool=pool, profiles=profiles, webhook_http=webhook_http)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, worker.stopping.set)
    try:
        await worker.run()
    finally:
        await profiles.aclose()
        await webhook_http.aclose()
        await pool.close()
        logger.info("notification worker stopped")


def run() -> None:
    settings = NotificationSettings()
    configure_logging("matcher-notifications", settings.log_level)
    asyncio.run(main(settings))


__all__ = ["NotificationWorker", "backoff_seconds", "main", "run"]

if __name__ == "__main__":
    run()
