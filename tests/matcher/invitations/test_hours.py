"""``hours_per_month`` counts: accepted hours in the month of a call's deadline plus the
call's hours may not exceed it, at invitation time (skipped) and at accept time (409)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from convene_matcher.exposure.capacity import citizens_over_hours, fits, hours_left
from tests.matcher.conftest import MatcherHarness
from tests.matcher.invitations.test_invitations import (
    CYCLING,
    NOW,
    Q,
    assert_problem,
    item_ref,
    matched_call,
)
from tests.matcher.routing.citizens import load, snapshot


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


async def cyclist(
    profiles: httpx.AsyncClient, app: FastAPI, *, hours_per_month: float | None
) -> dict[str, str]:
    import uuid

    citizen_id = str(uuid.uuid4())
    response = await profiles.post(
        "/v1/citizens",
        json={"id": citizen_id, "email": f"{citizen_id[:8]}@example.org", "display_name": "C"},
    )
    assert response.status_code == 201, response.text
    person = snapshot(skills=CYCLING, roles=["cyclist"])
    availability = person.availability.model_copy(update={"hours_per_month": hours_per_month})
    await load(
        app, person.model_copy(update={"citizen_id": citizen_id, "availability": availability})
    )
    return {"id": citizen_id}


async def invite_all(matcher: httpx.AsyncClient, call: dict[str, Any]) -> dict[str, Any]:
    response = await matcher.post(f"/v1/calls/{call['id']}/invitations", params=Q)
    assert response.status_code == 201, response.text
    batch: dict[str, Any] = response.json()
    return batch


async def invitation_id(
    matcher: httpx.AsyncClient, person: dict[str, str], call: dict[str, Any]
) -> str:
    response = await matcher.get(f"/v1/citizens/{person['id']}/invitations")
    assert response.status_code == 200, response.text
    (item,) = [i for i in response.json()["items"] if i["call_id"] == call["id"]]
    return str(item["id"])


async def accept(
    matcher: httpx.AsyncClient, person: dict[str, str], invitation: str, **body: Any
) -> httpx.Response:
    return await matcher.post(
        f"/v1/citizens/{person['id']}/invitations/{invitation}/accept", json=body or None
    )


def test_capacity_rule() -> None:
    assert fits(hours_per_month=4, accepted_hours=3, hours=1)
    assert not fits(hours_per_month=4, accepted_hours=3, hours=1.5)
    assert fits(hours_per_month=None, accepted_hours=100, hours=3)
    assert fits(hours_per_month=4, accepted_hours=3, hours=None)
    assert fits(hours_per_month=0.3, accepted_hours=0.1 + 0.1, hours=0.1)  # float sums
    assert hours_left(hours_per_month=4, accepted_hours=3) == 1
    assert hours_left(hours_per_month=4, accepted_hours=6) == 0
    assert hours_left(hours_per_month=None, accepted_hours=6) is None
    assert citizens_over_hours(
        {"a": 4, "b": 6, "c": None, "d": 2}, {"a": 3, "b": 3, "c": 50}, hours=3
    ) == {"a", "d"}


async def test_accepted_hours_skip_at_invitation_time(
    matcher: httpx.AsyncClient, profiles: httpx.AsyncClient, app: FastAPI
) -> None:
    tight = await cyclist(profiles, app, hours_per_month=4)
    roomy = await cyclist(profiles, app, hours_per_month=6)
    unlimited = await cyclist(profiles, app, hours_per_month=None)
    first = await matched_call(matcher, hours=3)
    await invite_all(matcher, first)
    for person in (tight, roomy, unlimited):
        response = await accept(matcher, person, await invitation_id(matcher, person, first))
        assert response.status_code == 200, response.text

    # Same month: 3 accepted + 3 asked > 4 for tight; 6 fits roomy exactly.
    second = await matched_call(matcher, title="Cycle parking at the station", hours=3)
    batch = await invite_all(matcher, second)
    tight_ref = item_ref_of(second, tight)
    assert {s["ref"]: s["reason"] for s in batch["skipped"]} == {tight_ref: "hours_per_month"}
    invited = {i["ref"] for i in batch["items"]}
    assert item_ref_of(second, roomy) in invited
    assert item_ref_of(second, unlimited) in invited

    # A call whose deadline falls in another month does not count the first call's hours.
    later = await matched_call(
        matcher,
        title="Cycle routes next season",
        hours=3,
        deadline=(NOW + timedelta(days=55)).isoformat(),
    )
    batch = await invite_all(matcher, later)
    assert batch["skipped"] == []
    item_ref(batch, tight, later)


async def test_accept_refused_or_fewer_hours_when_the_month_is_full(
    matcher: httpx.AsyncClient, profiles: httpx.AsyncClient, app: FastAPI
) -> None:
    person = await cyclist(profiles, app, hours_per_month=4)
    first = await matched_call(matcher, hours=3)
    second = await matched_call(matcher, title="Cycle parking at the station", hours=3)
    await invite_all(matcher, first)
    await invite_all(matcher, second)  # both pending: nothing accepted yet, both invited
    one = await invitation_id(matcher, person, first)
    second_invitation = await invitation_id(matcher, person, second)
    assert (await accept(matcher, person, one)).status_code == 200

    refused = await accept(matcher, person, second_invitation)
    problem = assert_problem(refused, 409, "hours-per-month-exceeded")
    assert problem["hours_per_month"] == 4
    assert problem["hours_accepted"] == 3
    assert problem["hours_left"] == 1
    assert "hours_offered" in problem["detail"]
    too_many = await accept(matcher, person, second_invitation, hours_offered=1.5)
    assert_problem(too_many, 409, "hours-per-month-exceeded")

    fewer = await accept(matcher, person, second_invitation, hours_offered=1)
    assert fewer.status_code == 200, fewer.text
    assert fewer.json()["hours_offered"] == 1
    # Undo and accept again: the invitation's own earlier hours never count against it.
    undo = await matcher.post(f"/v1/citizens/{person['id']}/invitations/{second_invitation}/undo")
    assert undo.status_code == 200, undo.text
    again = await accept(matcher, person, second_invitation, hours_offered=1)
    assert again.status_code == 200, again.text


def item_ref_of(call: dict[str, Any], person: dict[str, str]) -> str:
    import uuid

    from convene_matcher.routing.dependencies import DEVELOPMENT_REF_SECRET
    from convene_matcher.routing.refs import candidate_ref

    return candidate_ref(
        secret=DEVELOPMENT_REF_SECRET, call_id=uuid.UUID(call["id"]), citizen_id=person["id"]
    )
