"""Erasure leaves nothing of the citizen in the matcher: every table walked."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from convene_matcher.embedding.text import normalise_text, text_key
from convene_matcher.feed.consumer import FeedConsumer
from tests.matcher.conftest import MatcherHarness
from tests.matcher.privacy.helpers import SHARED_SKILL, leave_traces, where_found


@pytest.fixture
async def app(harness: MatcherHarness) -> AsyncIterator[FastAPI]:
    application = harness.app(throttle_daily_invitations=50)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def matcher(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://matcher.test"
    ) as client:
        yield client


async def test_erasure_leaves_no_trace_in_any_matcher_table(
    app: FastAPI, matcher: httpx.AsyncClient, profiles: httpx.AsyncClient
) -> None:
    traces = await leave_traces(app, matcher, profiles)
    before = await where_found(app, traces)
    # The walk sees the traces before erasure (so it can fail after).
    for column in (
        "call_match.citizen_id",
        "exposure.citizen_id",
        "invitation.citizen_id",
        "evidence_feedback.evidence_text",
        "outcome_label.citizen_id",
        "notification.recipient_id",
        "invitation_request.response",
        "embedding_cache.text_key",
    ):
        assert column in before, (column, before)

    erased = await profiles.delete(f"/v1/citizens/{traces.citizen_id}")
    assert erased.status_code == 204, erased.text
    feed: FeedConsumer = app.state.feed
    await feed.catch_up()

    assert await where_found(app, traces) == {}
    # What others hold stays: the other citizen's rows and the shared text's vector.
    async with app.state.pool.acquire() as connection:
        other = uuid.UUID(traces.other_id)
        assert (
            await connection.fetchval(
                "SELECT count(*) FROM invitation WHERE citizen_id = $1", other
            )
            == 2
        )
        assert (
            await connection.fetchval("SELECT count(*) FROM exposure WHERE citizen_id = $1", other)
            == 2
        )
        assert (
            await connection.fetchval(
                "SELECT count(*) FROM embedding_cache WHERE text_key = $1",
                text_key(normalise_text(SHARED_SKILL)),
            )
            == 1
        )
        # The body's idempotent replies still list the other citizen's invitations.
        replies = await connection.fetch("SELECT response FROM invitation_request")
        assert [len(r["response"]["items"]) for r in replies] == [1, 1]
