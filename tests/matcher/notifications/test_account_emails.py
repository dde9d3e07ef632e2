"""Account emails with an explicit address: the internal route queues them in the outbox and
the real worker sends them (text and HTML parts) to a real SMTP server, then forgets them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from convene_matcher.notifications.config import NotificationSettings
from convene_matcher.notifications.worker import NotificationWorker, Sender, http_clients
from tests.conftest import FreshDatabase
from tests.matcher.invitations.receivers import SmtpServer


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def _email(**overrides: str) -> dict[str, str]:
    body = {
        "kind": "verify_email",
        "to": "new.person@example.org",
        "subject": "Confirm your email address",
        "text": "Follow http://127.0.0.1:8080/verify-email?token=abc to confirm.",
        "html": '<p><a href="http://127.0.0.1:8080/verify-email?token=abc">Confirm</a></p>',
        "idempotency_key": f"verify:{uuid.uuid4()}",
    }
    body.update(overrides)
    return body


async def test_an_account_email_is_sent_once_with_both_parts_then_forgotten(
    matcher: httpx.AsyncClient,
    matcher_app: FastAPI,
    database: FreshDatabase,
    profiles_app: FastAPI,
    smtp: SmtpServer,
) -> None:
    body = _email()
    first = await matcher.post("/v1/notifications/emails", json=body)
    assert first.status_code == 202, first.text
    again = await matcher.post("/v1/notifications/emails", json=body)
    assert again.json()["delivery_id"] == first.json()["delivery_id"]

    settings = NotificationSettings(
        environment="test", database_url=database.dsn("matcher"), smtp_port=smtp.port
    )
    profiles, webhook_http = http_clients(
        settings, profiles_transport=httpx.ASGITransport(app=profiles_app)
    )
    worker = NotificationWorker(
        settings, pool=matcher_app.state.pool, profiles=profiles, webhook_http=webhook_http
    )
    sender = Sender(settings)
    try:
        assert await worker.send_one(sender) is True
        assert await worker.send_one(sender) is False
    finally:
        await sender.close()
        await profiles.aclose()
        await webhook_http.aclose()

    (message,) = smtp.sink.to("new.person@example.org")
    assert message["Subject"] == "Confirm your email address"
    assert message["X-Convene-Kind"] == "verify_email"
    parts = {part.get_content_type(): part for part in message.walk()}
    assert "verify-email?token=abc" in parts["text/plain"].get_payload(decode=True).decode()
    assert "verify-email?token=abc" in parts["text/html"].get_payload(decode=True).decode()
    async with matcher_app.state.pool.acquire() as connection:
        kept = await connection.fetchrow("SELECT to_address, text_body FROM account_email")
    assert kept["to_address"] == ""
    assert kept["text_body"] == ""


async def test_unknown_fields_and_bad_kinds_are_refused(matcher: httpx.AsyncClient) -> None:
    assert (
        await matcher.post("/v1/notifications/emails", json={**_email(), "bcc": "x@y.z"})
    ).status_code == 422
    assert (
        await matcher.post("/v1/notifications/emails", json=_email(kind="Not A Kind!"))
    ).status_code == 422
