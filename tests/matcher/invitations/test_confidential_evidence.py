"""A rating never turns a confidential or restricted call's text -- its title, or the
contribution's answers -- into evidence that another body sees: contribution -> rating ->
profiles ratings ledger -> feed -> evidence -> another body's match."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from convene_matcher.feed.consumer import FeedConsumer
from tests.matcher.conftest import MatcherHarness, create_citizen
from tests.matcher.invitations.test_invitations import BODY, NOW, OTHER_BODY, call_body

PUBLIC_TITLE = "Public review of the Oxford Road cycle lanes"
CONFIDENTIAL_TITLE = "Secret plan to close the Oxford Road cycle depot"
RESTRICTED_TITLE = "Restricted briefing on Oxford Road cycle depot staffing"
ANSWERS = {
    "public": "I repair bikes at the Oxford Road cycle depot every Saturday morning.",
    "confidential": "Closing the Oxford Road cycle depot would strand forty repair volunteers.",
    "restricted": "The Oxford Road cycle depot staffing rota has three mechanics per shift.",
}


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


def strings(value: Any) -> Iterator[str]:
    """Every string anywhere in a JSON value (keys included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


async def contributed_and_rated(
    matcher: httpx.AsyncClient, citizen_id: str, *, title: str, confidentiality: str
) -> None:
    q = {"public_body_id": str(BODY)}
    body = call_body(title=title, confidentiality=confidentiality, panel_size=1, hours=1)
    response = await matcher.post("/v1/calls", json=body)
    assert response.status_code == 201, response.text
    call_id = response.json()["id"]
    matched = await matcher.post(f"/v1/calls/{call_id}/match", params=q)
    assert matched.status_code == 200, matched.text
    invited = await matcher.post(f"/v1/calls/{call_id}/invitations", params=q)
    assert invited.status_code == 201, invited.text
    assert invited.json()["items"], (title, invited.text, matched.text)
    (item,) = invited.json()["items"]
    accepted = await matcher.post(f"/v1/citizens/{citizen_id}/invitations/{item['id']}/accept")
    assert accepted.status_code == 200, accepted.text
    submitted = await matcher.post(
        f"/v1/citizens/{citizen_id}/invitations/{item['id']}/contribution",
        json={"comment": ANSWERS[confidentiality]},
    )
    assert submitted.status_code == 200, submitted.text
    rated = await matcher.post(
        f"/v1/calls/{call_id}/contributions/{item['ref']}/rating", params=q, json={"rating": 5}
    )
    assert rated.status_code == 201, rated.text


async def test_confidential_and_restricted_titles_never_become_visible_evidence(
    matcher: httpx.AsyncClient, profiles: httpx.AsyncClient, app: FastAPI
) -> None:
    feed: FeedConsumer = app.state.feed
    citizen_id = await create_citizen(profiles, skills=[("cycling in city traffic", "can_do")])
    consent = await profiles.patch(
        f"/v1/citizens/{citizen_id}",
        json={"languages": ["en"], "consent": {"matching": True, "contact": True}},
    )
    assert consent.status_code == 200, consent.text
    await feed.catch_up()
    for title, tier in (
        (PUBLIC_TITLE, "public"),
        (CONFIDENTIAL_TITLE, "confidential"),
        (RESTRICTED_TITLE, "restricted"),
    ):
        await contributed_and_rated(matcher, citizen_id, title=title, confidentiality=tier)
    await feed.catch_up()  # the ratings reach the matcher's store as contributions

    other = {"public_body_id": str(OTHER_BODY)}
    response = await matcher.post(
        "/v1/calls",
        json=call_body(
            public_body_id=str(OTHER_BODY),
            public_body_name="Salford City Council",
            title="Oxford Road cycle depot: closing, staffing and the cycle lanes",
            description="Plans for the cycle depot on Oxford Road and its cycle lanes.",
            deadline=(NOW + timedelta(days=25)).isoformat(),
            panel_size=1,
        ),
    )
    assert response.status_code == 201, response.text
    matched = await matcher.post(f"/v1/calls/{response.json()['id']}/match", params=other)
    assert matched.status_code == 200, matched.text
    seen = [text.lower() for text in strings(matched.json())]
    for secret in (CONFIDENTIAL_TITLE, RESTRICTED_TITLE, ANSWERS["confidential"]):
        assert not [t for t in seen if secret.lower() in t]
    assert not [t for t in seen if ANSWERS["restricted"].lower() in t]
    # No call's title is evidence any more, not even a public one's.
    assert not [t for t in seen if PUBLIC_TITLE.lower() in t]
    # The walk does find evidence: the confidential ones count, as "private evidence".
    (candidate,) = [c for c in matched.json()["candidates"] if c["evidence"]][:1]
    shown = [(e["kind"], e["text"]) for e in candidate["evidence"]]
    assert ("contribution", "private evidence") in shown, shown
    # All three texts are the citizen's evidence; only the public one may be shown.
    items = {
        item.text: bool(item.attributes.get("private"))
        for item in app.state.evidence.store.items_of(citizen_id)
        if item.kind == "contribution"
    }
    assert items == {
        ANSWERS["public"]: False,
        ANSWERS["confidential"]: True,
        ANSWERS["restricted"]: True,
    }
    # The ratings still count: the citizen's aggregate holds all three.
    record = app.state.evidence.store.get(citizen_id)
    assert record.snapshot.rating.count == 3
