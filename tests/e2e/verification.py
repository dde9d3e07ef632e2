"""Following the emailed verification link, as a citizen would (unverified citizens are not
matched or invited): the link is read from the matcher's outbox, where the gateway queued it.
A link that could not be queued (the matcher was down: the gateway logs it and goes on) is
asked for again with POST /v1/auth/verify-email/resend, as the citizen would."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable

import asyncpg
import httpx

LINK = re.compile(r"/verify-email\?token=([A-Za-z0-9_\-%]+)")


async def _queued_link(matcher_dsn: str, email: str) -> str | None:
    connection = await asyncpg.connect(matcher_dsn)
    try:
        text = await connection.fetchval(
            """SELECT text_body FROM matcher.account_email
               WHERE lower(to_address) = lower($1) AND email_kind = 'verify_email'
               ORDER BY notification_id DESC LIMIT 1""",
            email,
        )
    finally:
        await connection.close()
    found = LINK.search(text or "")
    return found.group(1) if found else None


async def verify_from_outbox(
    client: httpx.AsyncClient,
    matcher_dsn: str,
    email: str,
    password: str,
    *,
    delivered: Callable[[], Iterable[str]] | None = None,
) -> None:
    """``delivered``: the texts of the emails already delivered to ``email`` (when a worker
    runs, it sends the message and then blanks its text in the outbox, so the link may be
    found only in the mailbox)."""
    for attempt in range(120):
        token = await _queued_link(matcher_dsn, email)
        if token is None and delivered is not None:
            links = [found.group(1) for text in delivered() if (found := LINK.search(text))]
            token = links[-1] if links else None
        if token is not None:
            verified = await client.post("/v1/auth/verify-email", json={"token": token})
            assert verified.status_code == 204, verified.text
            return
        if attempt % 10 == 9:
            signed_in = await client.post(
                "/v1/auth/token", data={"username": email, "password": password}
            )
            if signed_in.status_code == 200:
                bearer = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
                await client.post("/v1/auth/verify-email/resend", headers=bearer)
        await asyncio.sleep(0.5)
    raise AssertionError(f"no verification link queued for {email}")
