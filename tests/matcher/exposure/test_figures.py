"""The concentration figures hold exact values on a constructed ledger (not ranges)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from convene_matcher.exposure import figures
from convene_matcher.exposure.service import compute_figures
from tests.matcher.conftest import MatcherHarness
from tests.matcher.invitations.test_invitations import (
    BODY,
    NOW,
    Q,
    citizen,
    cyclists,
    item_ref,
    matched_call,
)


def test_gini_and_top_share_exact() -> None:
    assert figures.gini([1, 1, 1, 1]) == 0.0
    # sorted 1,2,3,4: 2 * (1 + 4 + 9 + 16) / (4 * 10) - 5 / 4
    assert figures.gini([4, 1, 3, 2]) == pytest.approx(0.25, abs=1e-12)
    # One holds everything among four: 2 * 4 * 10 / 40 - 5 / 4
    assert figures.gini([0, 0, 0, 10]) == pytest.approx(0.75, abs=1e-12)
    assert figures.gini([]) is None
    assert figures.gini([0, 0]) is None
    # 5% of 20 is one citizen; of 21, ceil(1.05) = two.
    assert figures.top_share([10, 5, 3, 1, 1] + [0] * 15) == 0.5
    assert figures.top_share([10, 5, 3, 1, 1] + [0] * 16) == 0.75
    assert figures.top_share([]) is None


# 15 zeros then 1, 1, 3, 5, 10 (20 in all), one person per 5% step: the cumulative shares.
LORENZ_20 = [{"population": 0.0, "share": 0.0}] + [
    {"population": round(k / 20, 4), "share": share}
    for k, share in zip(range(1, 21), [0.0] * 15 + [0.05, 0.1, 0.25, 0.5, 1.0], strict=True)
]


def test_compute_figures_pads_the_never_invited_with_zeros() -> None:
    result = compute_figures(counts=[10, 5, 3, 1, 1], population=20, accepted=2, new=1, days=365)
    assert result.model_dump() == {
        "window_days": 365,
        "citizens": 20,
        "invitations": 20,
        "citizens_invited": 5,
        "top_5_percent_share": 0.5,
        # 15 zeros then 1, 1, 3, 5, 10 at ranks 16..20: 2 * 382 / (20 * 20) - 21 / 20
        "gini": 0.86,
        "accepted": 2,
        "new_voices_share": 0.5,
        "lorenz": LORENZ_20,
        "citizens_at_monthly_cap": 0,
    }


@pytest.fixture
async def app(harness: MatcherHarness) -> AsyncIterator[FastAPI]:
    application = harness.app(throttle_daily_invitations=50)
    async with application.router.lifespan_context(application):
        yield application


async def test_exposure_route_on_a_constructed_ledger(
    app: FastAPI, profiles: httpx.AsyncClient
) -> None:
    """20 citizens known; invitations in the last year: 10, 5, 3, 1, 1 (and 15 never);
    two accept, one of them never invited before: the figures are exact."""
    x, y, z = await cyclists(profiles, app, 3)
    others = [await citizen(profiles, app, skills=[("tax law", "can_do")]) for _ in range(17)]
    assert len(app.state.evidence.store) == 20
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://matcher.test"
    ) as client:
        call = await matched_call(client)
        response = await client.post(f"/v1/calls/{call['id']}/invitations", params=Q)
        assert response.status_code == 201, response.text
        batch = response.json()
        for person in (x, y, z):
            item_ref(batch, person, call)  # each of the three was invited once, now
        month_ago = NOW - timedelta(days=30)
        old = [(x["id"], month_ago)] * 9 + [(y["id"], month_ago)] * 4
        old += [(others[0]["id"], month_ago)] * 3 + [(others[1]["id"], month_ago)]
        old += [(others[0]["id"], NOW - timedelta(days=400))]  # outside the 365-day window
        async with app.state.pool.acquire() as connection:
            await connection.executemany(
                "INSERT INTO exposure (citizen_id, public_body_id, invited_at) VALUES ($1, $2, $3)",
                [(uuid.UUID(cid), BODY, at) for cid, at in old],
            )
        invitation_of = await _invitation_of(client, x, y, z)
        for person in (x, z):
            accepted = await client.post(
                f"/v1/citizens/{person['id']}/invitations/{invitation_of[person['id']]}/accept"
            )
            assert accepted.status_code == 200, accepted.text
        declined = await client.post(
            f"/v1/citizens/{y['id']}/invitations/{invitation_of[y['id']]}/decline"
        )
        assert declined.status_code == 200, declined.text

        response = await client.get("/v1/exposure")
        assert response.status_code == 200, response.text
        assert response.json() == {
            "window_days": 365,
            "citizens": 20,
            "invitations": 20,
            "citizens_invited": 5,
            "top_5_percent_share": 0.5,
            "gini": 0.86,
            "accepted": 2,
            # x had earlier invitations; z had none before this one.
            "new_voices_share": 0.5,
            "lorenz": LORENZ_20,
            # Nobody here has a monthly cap of their own.
            "citizens_at_monthly_cap": 0,
        }
        # A 7-day window sees only this call's three invitations, one each.
        week = (await client.get("/v1/exposure", params={"days": 7})).json()
        assert (week["invitations"], week["citizens_invited"]) == (3, 3)
        # 20 citizens, 3 with one each: 2 * (18 + 19 + 20) / (20 * 3) - 21 / 20
        assert week["gini"] == 0.85
        assert week["top_5_percent_share"] == pytest.approx(1 / 3, abs=1e-4)
        assert week["new_voices_share"] == 0.5


async def _invitation_of(client: httpx.AsyncClient, *people: dict[str, str]) -> dict[str, str]:
    """citizen id -> the id of their one invitation."""
    found: dict[str, str] = {}
    for person in people:
        response = await client.get(f"/v1/citizens/{person['id']}/invitations")
        assert response.status_code == 200, response.text
        (item,) = response.json()["items"]
        found[person["id"]] = item["id"]
    return found
