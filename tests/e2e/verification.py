"""Following the emailed verification link, as a citizen would (unverified citizens are not
matched or invited): the link is read from the matcher's outbox, where the gateway queued it."""

from __future__ import annotations

import re

import asyncpg
import httpx

LINK = re.compile(r"/verify-email\?token=([A-Za-z0-9_\-%]+)")


async def verify_from_outbox(client: httpx.AsyncClient, matcher_dsn: str, email: str) -> None:
    connection = await asyncpg.connect(matcher_dsn)
    try:
        # Sent or not: a sent email's body is blanked, so take the newest row still holding it
        # or fall back to the SMTP sink in tests that run the worker.
        text = await connection.fetchval(
            """SELECT text_body FROM matcher.account_email
               WHERE lower(to_address) = lower($1) AND email_kind = 'verify_email'
               ORDER BY notification_id DESC LIMIT 1""",
            email,
        )
    finally:
        await connection.close()
    found = LINK.search(text or "")
    assert found is not None, f"no verification link queued for {email}"
    verified = await client.post("/v1/auth/verify-email", json={"token": found.group(1)})
    assert verified.status_code == 204, verified.text
