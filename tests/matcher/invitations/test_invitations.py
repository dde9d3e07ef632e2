"""Invitations end to end in the matcher: HTTP routes, a real PostgreSQL, the real profiles app,
a real SMTP server and a real webhook receiver on loopback, the worker's own send loop."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from standardwebhooks.webhooks import Webhook

from convene_matcher.notifications.config import NotificationSettings
from convene_matcher.notifications.worker import NotificationWorker, backoff_seconds, http_clients
from tests.conftest import FreshDatabase
from tests.matcher.conftest import MatcherHarness
from tests.matcher.invitations.receivers import SmtpServer, WebhookReceiver, free_port
from tests.matcher.routing.citizens import load, snapshot

BODY = uuid.UUID("00000000-0000-4000-8000-0000000b0d1e")
OTHER_BODY = uuid.UUID("00000000-0000-4000-8000-0000000b0d2e")
NOW = datetime.now(UTC)
Q = {"public_body_id": str(BODY)}


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
async def app(harness: MatcherHarness) -> AsyncIterator[FastAPI]:
    application = harness.app(webhook_allow_private_addresses=True, throttle_daily_invitations=50)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def matcher(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://matcher.test"
    ) as client:
        yield client


def worker_settings(
    database: FreshDatabase, smtp_port: int, **overrides: Any
) -> NotificationSettings:
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database.dsn("matcher"),
        "smtp_port": smtp_port,
        "webhook_allow_private_addresses": True,
        "notify_backoff_base_seconds": 0.0,
        "notify_max_attempts": 3,
    }
    values.update(overrides)
    return NotificationSettings(**values)


@pytest.fixture
async def make_worker(
    app: FastAPI, database: FreshDatabase, profiles_app: FastAPI
) -> AsyncIterator[Any]:
    clients: list[Any] = []

    def make(smtp_port: int, **overrides: Any) -> NotificationWorker:
        settings = worker_settings(database, smtp_port, **overrides)
        profiles, webhook_http = http_clients(
            settings, profiles_transport=httpx.ASGITransport(app=profiles_app)
        )
        profiles.http.base_url = httpx.URL("http://profiles.test")
        clients.extend([profiles, webhook_http])
        return NotificationWorker(
            settings, pool=app.state.pool, profiles=profiles, webhook_http=webhook_http
        )

    yield make
    for client in clients:
        await client.aclose()


async def citizen(
    profiles: httpx.AsyncClient, app: FastAPI, **snapshot_args: Any
) -> dict[str, str]:
    """A citizen in profiles (with an email) and in the matcher's store."""
    citizen_id = str(uuid.uuid4())
    email = f"{citizen_id[:8]}@example.org"
    response = await profiles.post(
        "/v1/citizens", json={"id": citizen_id, "email": email, "display_name": "Cy Clist"}
    )
    assert response.status_code == 201, response.text
    person = snapshot(**snapshot_args).model_copy(update={"citizen_id": citizen_id})
    await load(app, person)
    return {"id": citizen_id, "email": email}


CYCLING = [("cycling in city traffic", "can_do"), ("protected bike lane design", "can_do")]


async def cyclists(
    profiles: httpx.AsyncClient, app: FastAPI, n: int, **kw: Any
) -> list[dict[str, str]]:
    return [await citizen(profiles, app, skills=CYCLING, roles=["cyclist"], **kw) for _ in range(n)]


def call_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "public_body_id": str(BODY),
        "public_body_name": "Manchester City Council",
        "title": "Protected bike lanes on Oxford Road",
        "description": "We are planning segregated cycle lanes; tell us how you cycle the route.",
        "skills": [{"label": "cycling"}],
        "hours": 3,
        "deadline": (NOW + timedelta(days=20)).isoformat(),
        "panel_size": 3,
    }
    body.update(overrides)
    return body


async def matched_call(matcher: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await matcher.post("/v1/calls", json=call_body(**overrides))
    assert response.status_code == 201, response.text
    call: dict[str, Any] = response.json()
    response = await matcher.post(f"/v1/calls/{call['id']}/match", params=Q)
    assert response.status_code == 200, response.text
    call["match"] = response.json()
    return call


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"].endswith("/" + slug), body
    return body


async def counts(app: FastAPI) -> dict[str, int]:
    async with app.state.pool.acquire() as connection:
        return {
            table: await connection.fetchval(f"SELECT count(*) FROM {table}")
            for table in ("invitation", "exposure", "notification", "contribution_rating")
        }


async def test_invite_answer_rate_close_with_emails_and_signed_webhooks(
    matcher: httpx.AsyncClient,
    profiles: httpx.AsyncClient,
    app: FastAPI,
    smtp: SmtpServer,
    hooks: WebhookReceiver,
    make_worker: Any,
) -> None:
    people = await cyclists(profiles, app, 3)
    hook = await matcher.put(f"/v1/organisations/{BODY}/webhook", json={"url": hooks.url})
    assert hook.status_code == 200, hook.text
    secret = hook.json()["secret"]
    assert secret.startswith("whsec_")
    again = await matcher.put(f"/v1/organisations/{BODY}/webhook", json={"url": hooks.url})
    assert again.json()["secret"] is None  # shown once

    call = await matched_call(matcher)
    response = await matcher.post(
        f"/v1/calls/{call['id']}/invitations", params=Q, json={"message": "Your view matters."}
    )
    assert response.status_code == 201, response.text
    batch = response.json()
    assert len(batch["items"]) == 3
    assert batch["skipped"] == []
    assert all(i["status"] == "pending" and i["contact_citizen_id"] is None for i in batch["items"])
    assert await counts(app) == {
        "invitation": 3, "exposure": 3, "notification": 3, "contribution_rating": 0
    }  # fmt: skip

    worker = make_worker(smtp.port)
    assert await worker.drain() == 3
    mails = smtp.sink.snapshot()
    assert sorted(m["To"] for m in mails) == sorted(p["email"] for p in people)
    assert all("Oxford Road" in m["Subject"] for m in mails)
    assert "Your view matters." in mails[0].get_payload()
    # Each links to its invitation's page on the web pages (not to the JSON API).
    invitation_ids = {item["id"] for item in batch["items"]}
    linked = {
        found.group(1)
        for m in mails
        if (
            found := re.search(
                r"http://127\.0\.0\.1:8080/invitations/([0-9a-f-]{36})\b",
                m.get_payload(decode=True).decode(),
            )
        )
    }
    assert linked == invitation_ids
    async with app.state.pool.acquire() as connection:
        delivery_ids = {
            str(r["delivery_id"])
            for r in await connection.fetch("SELECT delivery_id FROM notification")
        }
    assert {m["Message-ID"].strip("<>").split("@")[0] for m in mails} == delivery_ids

    # The citizen sees the invitation with "why you" and the call's details.
    first = people[0]
    listed = await matcher.get(f"/v1/citizens/{first['id']}/invitations")
    assert listed.status_code == 200
    (item,) = listed.json()["items"]
    invitation_id = item["id"]
    assert item["call_id"] == call["id"]
    detail = (await matcher.get(f"/v1/citizens/{first['id']}/invitations/{invitation_id}")).json()
    assert detail["why_you"]["evidence"]
    assert detail["call"]["description"]
    assert detail["message"] == "Your view matters."
    # Another citizen's invitation is a 404.
    other = people[1]["id"]
    assert (
        await matcher.get(f"/v1/citizens/{other}/invitations/{invitation_id}")
    ).status_code == 404
    assert_problem(
        await matcher.post(f"/v1/citizens/{other}/invitations/{invitation_id}/accept"),
        404,
        "not-found",
    )

    base = f"/v1/citizens/{first['id']}/invitations/{invitation_id}"
    rated = f"/v1/calls/{call['id']}/contributions/{item_ref(batch, first, call)}/rating"
    assert_problem(
        await matcher.post(rated, params=Q, json={"rating": 5}), 409, "contribution-not-accepted"
    )
    too_many = await matcher.post(base + "/accept", json={"hours_offered": 4})
    assert_problem(too_many, 422, "validation-error")
    assert_problem(
        await matcher.post(base + "/accept", json={"hours_offered": -1}), 422, "validation-error"
    )
    accepted = await matcher.post(base + "/accept", json={"hours_offered": 2})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    assert accepted.json()["hours_offered"] == 2
    assert_problem(await matcher.post(base + "/accept"), 409, "invitation-already-answered")
    before = await counts(app)

    # The body sees who accepted (the gateway turns contact_citizen_id into contact details).
    listing = (await matcher.get(f"/v1/calls/{call['id']}/invitations", params=Q)).json()
    contacts = {i["contact_citizen_id"] for i in listing["items"]}
    assert contacts == {first["id"], None}
    other_body = await matcher.get(
        f"/v1/calls/{call['id']}/invitations", params={"public_body_id": str(OTHER_BODY)}
    )
    assert other_body.status_code == 404

    # The webhook for the answer is signed with the body's secret.
    assert await worker.drain() == 1
    (request,) = hooks.requests
    event = Webhook(secret).verify(request.body, request.headers)
    assert event["type"] == "invitation.answered"
    assert event["data"]["status"] == "accepted"
    assert event["data"]["ref"]
    assert request.headers["webhook-id"] == event["id"]
    assert first["id"] not in request.body.decode()

    # Rating needs a submitted contribution; it goes to the profiles ledger with the
    # contribution's text (never the call's title); once only.
    assert_problem(
        await matcher.post(rated, params=Q, json={"rating": 5}), 409, "contribution-not-submitted"
    )
    submitted = await matcher.post(
        base + "/contribution", json={"comment": "Kerbs at the junctions, please."}
    )
    assert submitted.status_code == 200, submitted.text
    response = await matcher.post(rated, params=Q, json={"rating": 5, "comment": "Very useful"})
    assert response.status_code == 201, response.text
    ratings = (await profiles.get(f"/v1/citizens/{first['id']}/ratings")).json()
    (ledger,) = ratings["items"]
    assert ledger["topic"] is None
    assert ledger["contribution_text"] == "Kerbs at the junctions, please."
    assert ledger["confidential"] is False
    assert ledger["contribution_id"] == invitation_id
    assert_problem(await matcher.post(rated, params=Q, json={"rating": 4}), 409, "duplicate-rating")
    assert_problem(await matcher.post(base + "/undo"), 409, "invitation-rated")
    assert (await counts(app))["contribution_rating"] == before["contribution_rating"] + 1

    # Closing notifies the one contributor and withdraws the rest; closing twice is a 409.
    closed = await matcher.post(
        f"/v1/calls/{call['id']}/close", params=Q, json={"outcome": "We built it."}
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["notified"] == 1
    assert closed.json()["withdrawn"] == 2
    assert_problem(
        await matcher.post(f"/v1/calls/{call['id']}/close", params=Q, json={"outcome": "x"}),
        409,
        "call-closed",
    )
    second = (await matcher.get(f"/v1/citizens/{other}/invitations")).json()["items"][0]
    assert second["status"] == "withdrawn"
    assert_problem(
        await matcher.post(f"/v1/citizens/{other}/invitations/{second['id']}/accept"),
        409,
        "invitation-withdrawn",
    )
    smtp.sink.received.clear()
    assert await worker.drain() == 2  # the outcome email and the call.closed webhook
    (outcome,) = smtp.sink.snapshot()
    assert outcome["To"] == first["email"]
    assert "We built it." in outcome.get_payload()
    assert (
        Webhook(secret).verify(hooks.requests[-1].body, hooks.requests[-1].headers)["type"]
        == "call.closed"
    )


def item_ref(batch: dict[str, Any], person: dict[str, str], call: dict[str, Any]) -> str:
    from convene_matcher.routing.dependencies import DEVELOPMENT_REF_SECRET
    from convene_matcher.routing.refs import candidate_ref

    ref = candidate_ref(
        secret=DEVELOPMENT_REF_SECRET, call_id=uuid.UUID(call["id"]), citizen_id=person["id"]
    )
    assert ref in {i["ref"] for i in batch["items"]}
    return ref


async def test_caps_consent_availability_and_erasure_rechecked_at_invitation_time(
    matcher: httpx.AsyncClient, profiles: httpx.AsyncClient, app: FastAPI
) -> None:
    fine, withdrew, busy, capped = await cyclists(profiles, app, 4, max_per_month=1)
    call = await matched_call(matcher, panel_size=4)
    refs = {r["ref"] for r in call["match"]["panel"]}
    assert len(refs) == 4
    # Profiles changed after the match.
    await load(
        app,
        snapshot(skills=CYCLING, consent=False).model_copy(update={"citizen_id": withdrew["id"]}),
    )
    away = [(NOW + timedelta(days=1), NOW + timedelta(days=60))]
    await load(
        app,
        snapshot(skills=CYCLING, unavailable=away).model_copy(update={"citizen_id": busy["id"]}),
    )
    async with app.state.pool.acquire() as connection:
        await connection.execute(
            "INSERT INTO exposure (citizen_id, public_body_id, invited_at) VALUES ($1, $2, now())",
            uuid.UUID(capped["id"]),
            OTHER_BODY,
        )
    response = await matcher.post(f"/v1/calls/{call['id']}/invitations", params=Q, json={})
    assert response.status_code == 201, response.text
    skipped = {s["reason"] for s in response.json()["skipped"]}
    assert skipped == {"consent", "availability", "invitation_cap"}
    assert len(response.json()["items"]) == 1
    again = await matcher.post(f"/v1/calls/{call['id']}/invitations", params=Q, json={})
    assert {s["reason"] for s in again.json()["skipped"]} >= {"already_invited"}
    assert again.json()["items"] == []
    assert response.json()["items"][0]["ref"] == item_ref(response.json(), fine, call)


async def test_idempotency_key_replays_and_unknown_refs_change_nothing(
    matcher: httpx.AsyncClient, profiles: httpx.AsyncClient, app: FastAPI
) -> None:
    await cyclists(profiles, app, 2)
    call = await matched_call(matcher, panel_size=2)
    url = f"/v1/calls/{call['id']}/invitations"
    bad = await matcher.post(url, params=Q, json={"refs": ["c_" + "0" * 20]})
    assert_problem(bad, 422, "validation-error")
    assert (await counts(app))["invitation"] == 0
    assert_problem(
        await matcher.post(url, params=Q, json={"message": "x" * 2001}), 422, "validation-error"
    )
    assert_problem(await matcher.post(url, params=Q, json={"surprise": 1}), 422, "validation-error")
    headers = {"Idempotency-Key": "invite-1"}
    first = await matcher.post(url, params=Q, json={"message": "hi"}, headers=headers)
    second = await matcher.post(url, params=Q, json={"message": "hi"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert len(first.json()["items"]) == 2
    reused = await matcher.post(url, params=Q, json={"message": "other"}, headers=headers)
    assert_problem(reused, 422, "idempotency-key-reused")
    assert (await counts(app))["invitation"] == 2
    # jsonb columns hold objects, never JSON-encoded strings (the pool has json codecs).
    async with app.state.pool.acquire() as connection:
        kinds = await connection.fetch(
            "SELECT jsonb_typeof(payload) AS t FROM notification "
            "UNION ALL SELECT jsonb_typeof(response) FROM invitation_request"
        )
    assert {row["t"] for row in kinds} == {"object"}
    unmatched = await matcher.post("/v1/calls", json=call_body(title="Not matched yet"))
    response = await matcher.post(f"/v1/calls/{unmatched.json()['id']}/invitations", params=Q)
    assert_problem(response, 409, "call-not-matched")


async def test_decline_not_my_expertise_undo_and_expiry(
    matcher: httpx.AsyncClient, profiles: httpx.AsyncClient, app: FastAPI
) -> None:
    (person,) = await cyclists(profiles, app, 1)
    call = await matched_call(matcher, panel_size=1)
    await matcher.post(f"/v1/calls/{call['id']}/invitations", params=Q)
    (item,) = (await matcher.get(f"/v1/citizens/{person['id']}/invitations")).json()["items"]
    base = f"/v1/citizens/{person['id']}/invitations/{item['id']}"
    assert_problem(await matcher.post(base + "/undo"), 409, "invitation-not-answered")
    assert_problem(
        await matcher.post(base + "/decline", json={"reason": "bored"}), 422, "validation-error"
    )
    declined = await matcher.post(base + "/decline", json={"reason": "not_my_expertise"})
    assert declined.status_code == 200
    assert declined.json()["decline_reason"] == "not_my_expertise"
    async with app.state.pool.acquire() as connection:
        texts = await connection.fetch("SELECT evidence_text FROM evidence_feedback")
    assert {r["evidence_text"] for r in texts} <= {s for s, _ in CYCLING} | {"Cyclist"}
    assert texts
    assert_problem(await matcher.post(base + "/accept"), 409, "invitation-already-answered")
    undone = await matcher.post(base + "/undo")
    assert undone.status_code == 200
    assert undone.json()["status"] == "pending"
    async with app.state.pool.acquire() as connection:
        assert await connection.fetchval("SELECT count(*) FROM evidence_feedback") == 0
        await connection.execute(
            "UPDATE call SET deadline = now() - interval '1 minute' WHERE id = $1",
            uuid.UUID(call["id"]),
        )
    assert (await matcher.get(base)).json()["status"] == "expired"
    assert_problem(await matcher.post(base + "/accept"), 409, "invitation-expired")
    assert_problem(await matcher.post(base + "/undo"), 409, "invitation-expired")


async def test_failures_retry_with_backoff_then_dead_letter_and_erased_are_dropped(
    matcher: httpx.AsyncClient, profiles: httpx.AsyncClient, app: FastAPI, make_worker: Any
) -> None:
    first, erased = await cyclists(profiles, app, 2)
    call = await matched_call(matcher, panel_size=2)
    await matcher.post(f"/v1/calls/{call['id']}/invitations", params=Q)
    assert (await profiles.delete(f"/v1/citizens/{erased['id']}")).status_code == 204
    dead_port = free_port()  # nothing listens: connections are refused
    worker = make_worker(dead_port, notify_max_attempts=3)
    for _ in range(3):
        await worker.drain()
    async with app.state.pool.acquire() as connection:
        rows = await connection.fetch("SELECT status, attempts FROM notification ORDER BY id")
        log = await connection.fetch("SELECT outcome FROM notification_delivery ORDER BY id")
    assert sorted((r["status"], r["attempts"]) for r in rows) == [("dead", 3), ("dropped", 1)]
    assert sorted(r["outcome"] for r in log) == ["dead", "dropped", "failed", "failed"]
    dead = (await matcher.get("/v1/notifications/dead")).json()["items"]
    assert len(dead) == 1
    assert dead[0]["attempts"] == 3
    assert len(dead[0]["deliveries"]) == 3
    assert "SMTP" in dead[0]["last_error"]
    assert first["email"] not in str(dead)
    delays = [backoff_seconds(n, base=5, maximum=3600) for n in (1, 2, 3, 12)]
    assert 2.5 <= delays[0] <= 5
    assert 5 <= delays[1] <= 10
    assert 10 <= delays[2] <= 20
    assert 1800 <= delays[3] <= 3600


async def test_reminder_once_before_deadline(
    matcher: httpx.AsyncClient,
    profiles: httpx.AsyncClient,
    app: FastAPI,
    smtp: SmtpServer,
    make_worker: Any,
) -> None:
    (person,) = await cyclists(profiles, app, 1)
    call = await matched_call(matcher, panel_size=1)
    await matcher.post(f"/v1/calls/{call['id']}/invitations", params=Q)
    worker = make_worker(smtp.port, reminder_before_hours=24)
    assert await worker.enqueue_reminders() == 0  # 20 days to go
    async with app.state.pool.acquire() as connection:
        await connection.execute(
            "UPDATE call SET deadline = now() + interval '2 hours' WHERE id = $1",
            uuid.UUID(call["id"]),
        )
        await connection.execute("UPDATE invitation SET created_at = now() - interval '3 days'")
    assert await worker.enqueue_reminders() == 1
    assert await worker.enqueue_reminders() == 0
    await worker.drain()
    subjects = [m["Subject"] for m in smtp.sink.to(person["email"])]
    assert len(subjects) == 2
    assert subjects[1].startswith("Reminder:")


async def test_webhook_urls_validated_outside_development(
    harness: MatcherHarness,
) -> None:
    app = harness.app()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as client,
    ):
        for url in (
            "http://127.0.0.1:9/hook",
            "https://127.0.0.1/hook",
            "https://10.1.2.3/hook",
            "https://[::1]/hook",
            "https://localhost/hook",
            "ftp://example.org/hook",
            "https://user:pw@example.org/hook",
            "not a url",
        ):
            response = await client.put(f"/v1/organisations/{BODY}/webhook", json={"url": url})
            assert_problem(response, 422, "invalid-webhook-url")
        async with app.state.pool.acquire() as connection:
            assert await connection.fetchval("SELECT count(*) FROM webhook_endpoint") == 0


async def test_stats_and_throttling_of_a_body_nobody_answers(
    harness: MatcherHarness, profiles: httpx.AsyncClient
) -> None:
    app = harness.app(
        throttle_min_due=3, throttle_min_response_rate=0.5, throttle_daily_invitations=2
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as client,
    ):
        people = await cyclists(profiles, app, 4)
        call = await matched_call(client, panel_size=4)
        refs = [r["ref"] for r in call["match"]["panel"]]
        response = await client.post(
            f"/v1/calls/{call['id']}/invitations", params=Q, json={"refs": refs[:3]}
        )
        assert response.status_code == 201, response.text
        assert len(people) == 4
        async with app.state.pool.acquire() as connection:
            await connection.execute("UPDATE invitation SET created_at = now() - interval '3 days'")
        stats = (await client.get(f"/v1/organisations/{BODY}/invitation-stats")).json()
        assert stats["invitations_sent"] == 3
        assert stats["throttled"] is True
        assert stats["response_rate"] < 0.5
        throttled = await client.post(
            f"/v1/calls/{call['id']}/invitations", params=Q, json={"refs": refs[3:]}
        )
        # One more invitation stays within the daily allowance of 2.
        assert throttled.status_code == 201, throttled.text
        more = await matched_call(client, title="Second cycling call", panel_size=4)
        response = await client.post(f"/v1/calls/{more['id']}/invitations", params=Q)
        problem = assert_problem(response, 429, "invitations-throttled")
        assert int(response.headers["Retry-After"]) >= 60
        assert "answered" in problem["detail"]

        figures = (await client.get("/v1/exposure")).json()
        assert figures["invitations"] == 4
        assert figures["citizens_invited"] == 4
        # Four citizens known, one invitation each: perfectly even; the top 5% is one of 4.
        assert (figures["citizens"], figures["gini"], figures["top_5_percent_share"]) == (
            4,
            0.0,
            0.25,
        )
        assert (figures["accepted"], figures["new_voices_share"]) == (0, None)
        lorenz = figures["lorenz"]
        assert len(lorenz) == 5  # four citizens: one point each, and the origin
        assert lorenz == [
            {"population": share, "share": share} for share in (0.0, 0.25, 0.5, 0.75, 1.0)
        ]
        assert figures["citizens_at_monthly_cap"] == 0


async def test_body_withdraws_one_invitation_and_the_citizen_is_told(
    matcher: httpx.AsyncClient,
    profiles: httpx.AsyncClient,
    app: FastAPI,
    smtp: SmtpServer,
    make_worker: Any,
) -> None:
    people = await cyclists(profiles, app, 4)
    call = await matched_call(matcher, panel_size=4)
    invited = await matcher.post(f"/v1/calls/{call['id']}/invitations", params=Q)
    assert len(invited.json()["items"]) == 4, invited.text
    worker = make_worker(smtp.port)
    assert await worker.drain() == 4
    smtp.sink.received.clear()

    ids: list[str] = []
    for person in people:
        (item,) = (await matcher.get(f"/v1/citizens/{person['id']}/invitations")).json()["items"]
        ids.append(item["id"])
    mine = [f"/v1/citizens/{p['id']}/invitations/{i}" for p, i in zip(people, ids, strict=True)]
    withdraw = [f"/v1/calls/{call['id']}/invitations/{i}/withdraw" for i in ids]
    # people[1] and [2] accept, [3] declines; the body rates [2].
    for base in mine[1:3]:
        assert (await matcher.post(base + "/accept")).status_code == 200
    assert (await matcher.post(mine[3] + "/decline")).status_code == 200
    ref_2 = item_ref(invited.json(), people[2], call)
    assert (await matcher.post(mine[2] + "/contribution", json={"comment": "Yes."})).is_success
    rated = await matcher.post(
        f"/v1/calls/{call['id']}/contributions/{ref_2}/rating", params=Q, json={"rating": 4}
    )
    assert rated.status_code == 201, rated.text

    # Only the owning body; only this call's invitations.
    other = await matcher.post(withdraw[0], params={"public_body_id": str(OTHER_BODY)})
    assert_problem(other, 404, "not-found")
    unknown = f"/v1/calls/{call['id']}/invitations/{uuid.uuid4()}/withdraw"
    assert_problem(await matcher.post(unknown, params=Q), 404, "not-found")

    before = await counts(app)
    pending = await matcher.post(withdraw[0], params=Q)
    assert pending.status_code == 200, pending.text
    assert pending.json()["status"] == "withdrawn"
    accepted = await matcher.post(withdraw[1], params=Q)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "withdrawn"
    assert accepted.json()["contact_citizen_id"] is None  # no longer a contributor
    after = await counts(app)
    assert after["notification"] == before["notification"] + 2  # one email each

    # Refusals change nothing.
    assert_problem(await matcher.post(withdraw[0], params=Q), 409, "invitation-withdrawn")
    assert_problem(await matcher.post(withdraw[2], params=Q), 409, "invitation-rated")
    assert_problem(await matcher.post(withdraw[3], params=Q), 409, "invitation-declined")
    assert await counts(app) == after

    # The citizen sees it withdrawn and can no longer answer it, nor undo an answer.
    seen = (await matcher.get(mine[0])).json()
    assert seen["status"] == "withdrawn"
    assert seen["can_undo"] is False
    assert_problem(await matcher.post(mine[0] + "/accept"), 409, "invitation-withdrawn")
    assert_problem(await matcher.post(mine[0] + "/decline"), 409, "invitation-withdrawn")
    assert_problem(await matcher.post(mine[1] + "/undo"), 409, "invitation-withdrawn")

    assert await worker.drain() == 2
    mails = smtp.sink.snapshot()
    assert sorted(m["To"] for m in mails) == sorted(p["email"] for p in people[:2])
    assert all(m["X-Convene-Kind"] == "withdrawn" for m in mails)
    assert all("withdrawn" in m["Subject"] and "Oxford Road" in m["Subject"] for m in mails)

    # After the deadline nothing can be withdrawn.
    async with app.state.pool.acquire() as connection:
        await connection.execute(
            "UPDATE call SET deadline = now() - interval '1 minute' WHERE id = $1",
            uuid.UUID(call["id"]),
        )
    assert_problem(await matcher.post(withdraw[3], params=Q), 409, "invitation-expired")


async def test_withdrawn_before_its_email_went_out_sends_nothing(
    matcher: httpx.AsyncClient,
    profiles: httpx.AsyncClient,
    app: FastAPI,
    smtp: SmtpServer,
    make_worker: Any,
) -> None:
    (person,) = await cyclists(profiles, app, 1)
    call = await matched_call(matcher, panel_size=1)
    (item,) = (await matcher.post(f"/v1/calls/{call['id']}/invitations", params=Q)).json()["items"]
    withdrawn = await matcher.post(
        f"/v1/calls/{call['id']}/invitations/{item['id']}/withdraw", params=Q
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert await make_worker(smtp.port).drain() == 2  # both rows handled: dropped
    assert [(m["X-Convene-Kind"], m["Subject"]) for m in smtp.sink.snapshot()] == []
    async with app.state.pool.acquire() as connection:
        statuses = await connection.fetch("SELECT kind, status FROM notification ORDER BY id")
    assert [(r["kind"], r["status"]) for r in statuses] == [
        ("invitation", "dropped"),
        ("withdrawn", "dropped"),
    ]
    assert person


async def test_call_details_follow_the_confidentiality_tier_until_accepted(
    matcher: httpx.AsyncClient, profiles: httpx.AsyncClient, app: FastAPI
) -> None:
    (person,) = await cyclists(profiles, app, 1)
    secret_text = "Sealed bid evaluation for the Oxford Road contract"
    details = {
        "description": secret_text,
        "questions": ["Which of the two tendered junction designs is safer?"],
    }
    views: dict[str, dict[str, Any]] = {}
    for tier in ("public", "restricted", "confidential"):
        call = await matched_call(
            matcher, panel_size=1, confidentiality=tier, title=f"Bike lanes ({tier})", **details
        )
        invited = await matcher.post(f"/v1/calls/{call['id']}/invitations", params=Q)
        assert invited.status_code == 201, invited.text
        (item,) = invited.json()["items"]
        listed = (await matcher.get(f"/v1/citizens/{person['id']}/invitations")).json()["items"]
        (mine,) = [i for i in listed if i["call_id"] == call["id"]]
        path = f"/v1/citizens/{person['id']}/invitations/{mine['id']}"
        response = await matcher.get(path)
        assert response.status_code == 200, response.text
        views[tier] = {"path": path, "body": response.json(), "text": response.text}
        assert item["ref"]

    public = views["public"]["body"]["call"]
    assert public["description"] == secret_text
    assert public["questions"] == details["questions"]
    assert public["skills"] == ["cycling"]
    assert public["withheld"] == []
    assert public["note"] is None

    restricted = views["restricted"]["body"]["call"]
    assert restricted["description"] == secret_text
    assert restricted["questions"] == details["questions"]
    assert restricted["skills"] is None
    assert restricted["withheld"] == ["skills"]
    assert restricted["note"]

    confidential = views["confidential"]["body"]
    assert confidential["call"]["title"] == "Bike lanes (confidential)"
    assert confidential["call"]["withheld"] == ["description", "questions", "skills"]
    assert "confidential" in confidential["call"]["note"]
    assert secret_text not in views["confidential"]["text"]
    assert "tendered" not in views["confidential"]["text"]
    assert confidential["why_you"]["evidence"]  # why you is the citizen's own evidence

    for tier in ("restricted", "confidential"):
        accepted = await matcher.post(views[tier]["path"] + "/accept")
        assert accepted.status_code == 200, accepted.text
        call = accepted.json()["call"]
        assert call["description"] == secret_text
        assert call["questions"] == details["questions"]
        assert call["skills"] == ["cycling"]
        assert call["withheld"] == []
        assert call["note"] is None
    # Undoing the acceptance hides the confidential details again.
    undone = await matcher.post(views["confidential"]["path"] + "/undo")
    assert undone.status_code == 200, undone.text
    assert secret_text not in undone.text


async def test_exposure_counts_citizens_who_reached_their_monthly_cap(
    matcher: httpx.AsyncClient, profiles: httpx.AsyncClient, app: FastAPI
) -> None:
    capped = await cyclists(profiles, app, 2, max_per_month=1)
    free = await cyclists(profiles, app, 2)
    call = await matched_call(matcher, panel_size=4)
    invited = await matcher.post(f"/v1/calls/{call['id']}/invitations", params=Q)
    assert len(invited.json()["items"]) == 4, invited.text
    figures = (await matcher.get("/v1/exposure")).json()
    assert len(capped) + len(free) == figures["citizens_invited"] == 4
    assert figures["citizens_at_monthly_cap"] == 2
    # Four of four citizens invited once each: the curve is the line of equality.
    assert all(p["share"] == pytest.approx(p["population"]) for p in figures["lorenz"])
