"""SIGKILL the notification worker while it sends 1,000 invitation emails; restart it.

Real processes on loopback: profiles (uvicorn) for the addresses, the worker
(``python -m convene_matcher.notifications.worker``), an aiosmtpd server in the test. The outbox
rows are written by the matcher's own repository functions (one transaction, as the service
does). Asserted: every invitation's delivery id reached the SMTP server (none lost), the
mailbox -- which, like a real idempotent receiver, files one copy per Message-ID -- holds each
exactly once, and the raw count of SMTP transactions exceeds the rows by at most the number
of sender tasks (the only duplicate window: the server's 250 and the worker's COMMIT).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from convene_common.db import register_json_codecs
from convene_common.embedded_pg import EmbeddedPostgres
from convene_matcher.invitations import repository as invitations
from convene_matcher.notifications import repository as outbox
from convene_matcher.routing.repository import MatchRow, record_invitation, save_match
from scripts.suite import REPO_ROOT, Suite
from tests.conftest import FreshDatabase
from tests.matcher.invitations.receivers import SmtpServer, free_port

pytestmark = pytest.mark.faults

INVITATIONS = 1_000
SENDERS = 4
TOKEN = "internal-token-for-fault-tests-0123456789"
BODY = uuid.UUID("00000000-0000-4000-8000-00000000fa17")


async def seed(database: FreshDatabase, profiles_url: str) -> list[str]:
    citizen_ids = [str(uuid.uuid4()) for _ in range(INVITATIONS)]
    limits = asyncio.Semaphore(16)
    async with httpx.AsyncClient(
        base_url=profiles_url, headers={"X-Internal-Token": TOKEN}, timeout=30
    ) as client:

        async def create(citizen_id: str) -> None:
            async with limits:
                response = await client.post(
                    "/v1/citizens",
                    json={
                        "id": citizen_id,
                        "email": f"{citizen_id}@example.org",
                        "display_name": "Fault Tester",
                    },
                )
                assert response.status_code == 201, response.text

        await asyncio.gather(*(create(c) for c in citizen_ids))
    connection = await asyncpg.connect(
        database.dsn("matcher"), server_settings={"search_path": "matcher"}
    )
    # The same json codecs as the service's pool, so the outbox gets objects, not strings.
    await register_json_codecs(connection)
    try:
        call_id = uuid.uuid4()
        now = datetime.now(UTC)
        async with connection.transaction():
            await connection.execute(
                """INSERT INTO call (id, public_body_id, public_body_name, request_hash, title,
                       description, questions, skills, perspectives, languages, access_offered,
                       hours, deadline, panel_size, conflicts, confidentiality)
                   VALUES ($1, $2, 'Fault Council', '\\x00', 'Fault drill', 'd', '[]', '[]',
                           '[]', '{}', '{}', 1, $3, 500, '{}', 'public')""",
                call_id,
                BODY,
                now + timedelta(days=10),
            )
            refs = [f"c_{i:020x}" for i in range(INVITATIONS)]
            await save_match(
                connection,
                call_id=call_id,
                rows=[
                    MatchRow(ref, cid, 1.0, i, True, "[]", json.dumps({"evidence": []}), None)
                    for i, (ref, cid) in enumerate(zip(refs, citizen_ids, strict=True))
                ],
            )
            for ref, citizen_id in zip(refs, citizen_ids, strict=True):
                invitation_id = uuid.uuid4()
                await invitations.insert_invitation(
                    connection,
                    invitation_id=invitation_id,
                    call_id=call_id,
                    ref=ref,
                    citizen_id=citizen_id,
                    public_body_id=BODY,
                    message=None,
                    created_at=now,
                )
                await record_invitation(
                    connection,
                    citizen_id=citizen_id,
                    public_body_id=BODY,
                    call_id=call_id,
                    invited_at=now,
                )
                await outbox.enqueue(
                    connection,
                    kind="invitation",
                    channel="email",
                    recipient_id=citizen_id,
                    payload={"invitation_id": str(invitation_id), "call_id": str(call_id)},
                )
    finally:
        await connection.close()
    return citizen_ids


def start_worker(
    database: FreshDatabase, *, smtp_port: int, profiles_url: str, log: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CONVENE_MATCHER_ENVIRONMENT": "test",
        "CONVENE_MATCHER_DATABASE_URL": database.dsn("matcher"),
        "CONVENE_MATCHER_PROFILES_URL": profiles_url,
        "CONVENE_MATCHER_INTERNAL_TOKEN": TOKEN,
        "CONVENE_MATCHER_SMTP_PORT": str(smtp_port),
        "CONVENE_MATCHER_NOTIFY_SENDERS": str(SENDERS),
        "CONVENE_MATCHER_NOTIFY_POLL_SECONDS": "0.05",
        "CONVENE_MATCHER_NOTIFY_BACKOFF_BASE_SECONDS": "0.1",
        "CONVENE_MATCHER_LOG_LEVEL": "WARNING",
    }
    with log.open("ab") as output:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "convene_matcher.notifications.worker"],
            env=env,
            cwd=REPO_ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def sent_count(database: FreshDatabase) -> int:
    connection = await asyncpg.connect(
        database.dsn("matcher"), server_settings={"search_path": "matcher"}
    )
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM notification WHERE status = 'sent'"
        )
        return count
    finally:
        await connection.close()


async def test_sigkill_midway_loses_nothing_and_delivers_each_once(
    pg_cluster: EmbeddedPostgres, database: FreshDatabase, tmp_path: Path
) -> None:
    started = time.monotonic()
    suite = Suite(
        cluster=pg_cluster,
        database=database.name,
        ports={"profiles": free_port()},
        run_dir=tmp_path,
        internal_token=TOKEN,
        jwt_secret="unused-" + "x" * 32,
        environment="test",
    )
    suite.start("profiles")
    worker: subprocess.Popen[bytes] | None = None
    try:
        suite.wait_ready("profiles", timeout=60)
        await seed(database, suite.url("profiles"))
        seeded = time.monotonic()
        with SmtpServer() as smtp:
            log = tmp_path / "worker.log"
            worker = start_worker(
                database, smtp_port=smtp.port, profiles_url=suite.url("profiles"), log=log
            )
            deadline = time.monotonic() + 30
            while len(smtp.sink.snapshot()) < INVITATIONS // 3:
                assert worker.poll() is None, log.read_text()[-2000:]
                assert time.monotonic() < deadline, "worker too slow to reach the kill point"
                await asyncio.sleep(0.01)
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            at_kill = len(smtp.sink.snapshot())
            worker = start_worker(
                database, smtp_port=smtp.port, profiles_url=suite.url("profiles"), log=log
            )
            deadline = time.monotonic() + 40
            while await sent_count(database) < INVITATIONS:
                assert worker.poll() is None, log.read_text()[-2000:]
                assert time.monotonic() < deadline, f"only {await sent_count(database)} sent"
                await asyncio.sleep(0.2)
            await asyncio.sleep(0.3)  # nothing more may arrive
            received = smtp.sink.snapshot()
    finally:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=10)
        suite.stop("profiles")

    connection = await asyncpg.connect(
        database.dsn("matcher"), server_settings={"search_path": "matcher"}
    )
    try:
        rows = await connection.fetch("SELECT delivery_id::text AS d FROM notification")
        invitation_rows = await connection.fetchval("SELECT count(*) FROM invitation")
    finally:
        await connection.close()
    expected = {f"<{row['d']}@convene.notifications>" for row in rows}
    ids = [str(m["Message-ID"]) for m in received]
    mailbox = set(ids)  # one copy per Message-ID, as an idempotent receiver files them
    duplicates = len(ids) - len(mailbox)
    print(  # noqa: T201
        f"\nfault test: rows={invitation_rows} killed_after={at_kill} received={len(ids)} "
        f"distinct={len(mailbox)} duplicates={duplicates} seed={seeded - started:.1f}s "
        f"total={time.monotonic() - started:.1f}s"
    )
    assert invitation_rows == INVITATIONS
    assert mailbox == expected  # none lost, none foreign
    assert len(mailbox) == invitation_rows
    assert duplicates <= SENDERS  # only the 250-to-COMMIT window, at most one per sender
    assert INVITATIONS // 3 <= at_kill < INVITATIONS  # the kill really was midway
    assert time.monotonic() - started < 60
