"""The matcher's typed profiles client: request id, internal token, bounded retries, problems.

Against the real profiles app for what it answers, and a MockTransport (the network edge)
for the failure modes profiles cannot be made to produce on demand.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI

from convene_common.logging import request_id_var
from convene_common.service_client import (
    DownstreamError,
    DownstreamProblemError,
    DownstreamTimeoutError,
    DownstreamUnavailableError,
)
from convene_matcher.clients.profiles import ProfilesClient, RatingSent

TOKEN = "internal-token-for-tests"


def client_over(transport: httpx.AsyncBaseTransport, **overrides: float) -> ProfilesClient:
    return ProfilesClient.create(
        base_url="http://profiles.test",
        timeout_seconds=overrides.get("timeout_seconds", 5.0),
        internal_token=TOKEN,
        transport=transport,
    )


async def test_against_real_profiles_contact_rating_and_a_gone_citizen(
    profiles_app: FastAPI, profiles: httpx.AsyncClient
) -> None:
    created = await profiles.post(
        "/v1/citizens",
        json={"id": str(uuid.uuid4()), "email": "ada@example.org", "display_name": "Ada"},
    )
    assert created.status_code == 201, created.text
    citizen_id = created.json()["id"]
    client = client_over(httpx.ASGITransport(app=profiles_app))
    try:
        contact = await client.contact(citizen_id=citizen_id)
        assert contact is not None
        assert (contact.email, contact.display_name) == ("ada@example.org", "Ada")
        assert await client.contact(citizen_id=uuid.uuid4()) is None

        rating = RatingSent(
            public_body_id=uuid.uuid4(), contribution_id=uuid.uuid4(), rating=4, topic="bikes"
        )
        assert await client.record_rating(citizen_id=citizen_id, rating=rating) is True
        assert await client.record_rating(citizen_id=citizen_id, rating=rating) is False
        profile = await client.get_citizen(citizen_id=citizen_id)
        assert profile is not None
        assert profile.id == uuid.UUID(citizen_id)

        page = await client.fetch_changes(after=0, limit=10)
        assert [change.citizen_id for change in page.items] == [citizen_id, citizen_id]

        # A refused rating (out of range for profiles) is profiles' 422, passed through.
        with pytest.raises(DownstreamProblemError) as refused:
            await client.record_rating(
                citizen_id=citizen_id, rating=rating.model_copy(update={"rating": 9})
            )
        assert refused.value.status == 422
    finally:
        await client.aclose()


async def test_every_call_carries_the_request_id_and_the_internal_token() -> None:
    seen: list[httpx.Request] = []

    def profiles(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"email": "a@example.org", "display_name": "A"})

    client = client_over(httpx.MockTransport(profiles))
    token = request_id_var.set("req-0123456789")
    try:
        await client.contact(citizen_id=uuid.uuid4())
    finally:
        request_id_var.reset(token)
        await client.aclose()
    assert seen[0].headers["X-Request-ID"] == "req-0123456789"
    assert seen[0].headers["X-Internal-Token"] == TOKEN


async def test_a_refused_connection_is_retried_once_on_a_get_and_never_on_a_post() -> None:
    attempts: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(request.method)
        raise httpx.ConnectError("refused", request=request)

    client = client_over(httpx.MockTransport(refuse))
    try:
        with pytest.raises(DownstreamUnavailableError) as unavailable:
            await client.contact(citizen_id=uuid.uuid4())
        assert unavailable.value.status == 503
        assert unavailable.value.headers["Retry-After"] == "5"
        assert isinstance(unavailable.value.__cause__, httpx.ConnectError)
        assert attempts == ["GET", "GET"]
        attempts.clear()
        rating = RatingSent(public_body_id=uuid.uuid4(), contribution_id=uuid.uuid4(), rating=3)
        with pytest.raises(DownstreamUnavailableError):
            await client.record_rating(citizen_id=uuid.uuid4(), rating=rating)
        assert attempts == ["POST"]
    finally:
        await client.aclose()


@pytest.mark.parametrize(
    ("answer", "error", "status"),
    [
        (httpx.Response(503), DownstreamUnavailableError, 503),
        (httpx.Response(500), DownstreamError, 502),
        (httpx.Response(401), DownstreamError, 502),
        (httpx.Response(200, content=b"not json"), DownstreamError, 502),
    ],
)
async def test_failures_map_to_problems(
    answer: httpx.Response, error: type[Exception], status: int
) -> None:
    client = client_over(httpx.MockTransport(lambda request: answer))
    try:
        with pytest.raises(error) as raised:
            await client.contact(citizen_id=uuid.uuid4())
        assert getattr(raised.value, "status", None) == status
    finally:
        await client.aclose()


async def test_a_hanging_profiles_is_cut_off_by_the_deadline() -> None:
    import asyncio

    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(10)
        return httpx.Response(200, json={})

    client = client_over(httpx.MockTransport(hang), timeout_seconds=0.2)
    try:
        with pytest.raises(DownstreamTimeoutError):
            await client.contact(citizen_id=uuid.uuid4())
    finally:
        await client.aclose()
