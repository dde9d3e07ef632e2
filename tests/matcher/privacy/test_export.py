"""The matcher's export holds everything it keeps about the citizen, and nothing of others."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.matcher.conftest import MatcherHarness
from tests.matcher.privacy.helpers import UNIQUE_SKILL, leave_traces


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


async def test_export_holds_invitations_answers_hours_exposure_and_evidence(
    app: FastAPI, matcher: httpx.AsyncClient, profiles: httpx.AsyncClient
) -> None:
    traces = await leave_traces(app, matcher, profiles)
    response = await matcher.get(f"/v1/citizens/{traces.citizen_id}/export")
    assert response.status_code == 200, response.text
    export = response.json()
    assert export["citizen_id"] == traces.citizen_id
    first, second = traces.call_ids
    invitations = {i["call_id"]: i for i in export["invitations"]}
    assert set(invitations) == {first, second}
    accepted, declined = invitations[first], invitations[second]
    assert accepted["status"] == "accepted"
    assert accepted["hours_offered"] == 0.5
    assert accepted["hours_asked"] == 1
    assert accepted["message"] == "We would value your view."
    assert accepted["rating"]["rating"] == 4
    assert accepted["rating"]["comment"] == "Knew every lock on the canal."
    assert accepted["outcome"] == "We restore two locks."
    assert declined["status"] == "declined"
    assert declined["decline_reason"] == "not_my_expertise"
    shown = {e["text"] for e in declined["explanation"]["evidence"]}
    assert UNIQUE_SKILL in {t.lower() for t in shown}
    assert {m["call_id"] for m in export["matches"]} == {first, second}
    assert all(m["explanation"]["evidence"] for m in export["matches"])
    assert sorted(e["call_id"] for e in export["exposure"]) == sorted([first, second])
    assert {f["invitation_id"] for f in export["feedback"]} == {declined["id"]}
    assert UNIQUE_SKILL in {f["evidence_text"].lower() for f in export["feedback"]}
    assert [(o["call_id"], o["answer"], o["rating"]) for o in export["outcome_labels"]] == [
        (first, "accepted", 4)
    ]
    assert sorted(n["kind"] for n in export["notifications"]) == [
        "invitation",
        "invitation",
        "outcome",
    ]
    assert traces.other_id not in json.dumps(export)

    stranger = await matcher.get(f"/v1/citizens/{uuid.uuid4()}/export")
    assert stranger.status_code == 200, stranger.text
    assert {k: v for k, v in stranger.json().items() if k != "citizen_id"} == {
        "invitations": [],
        "matches": [],
        "exposure": [],
        "feedback": [],
        "outcome_labels": [],
        "notifications": [],
    }
