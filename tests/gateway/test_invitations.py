"""Invitations through the gateway over the REAL matcher and profiles apps in-process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.gateway.conftest import CallsGateway

PROBLEM = "application/problem+json"


def call_body() -> dict[str, Any]:
    return {
        "title": "Protected bike lanes on Oxford Road",
        "description": "Segregated cycle lanes on Oxford Road: how do you cycle the route?",
        "skills": [{"label": "cycling infrastructure design"}],
        "hours": 3,
        "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "panel_size": 2,
    }


def problem(response: httpx.Response, status: int, slug: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["type"].endswith("/" + slug)


async def signed_in_cyclist(
    gw: CallsGateway, *, contact: bool
) -> tuple[dict[str, Any], dict[str, str]]:
    created, headers = await gw.citizen(name="Cy Clist")
    patched = await gw.client.patch(
        "/v1/me", headers=headers, json={"consent": {"matching": True, "contact": contact}}
    )
    assert patched.status_code == 200, patched.text
    for label in ("cycling infrastructure design", "protected bike lane design"):
        added = await gw.client.post(
            "/v1/me/skills", headers=headers, json={"label": label, "level": "can_do"}
        )
        assert added.status_code == 201, added.text
    return created, headers


async def test_panel_invited_citizen_accepts_body_sees_contact_rates_and_closes(
    calls_gateway: CallsGateway,
) -> None:
    gw = calls_gateway
    consenting, consenting_headers = await signed_in_cyclist(gw, contact=True)
    private, private_headers = await signed_in_cyclist(gw, contact=False)
    await gw.sync()
    _, body_headers = await gw.public_body()
    _, other_body = await gw.public_body()
    call = (await gw.client.post("/v1/calls", headers=body_headers, json=call_body())).json()
    matched = await gw.client.post(f"/v1/calls/{call['id']}/match", headers=body_headers)
    assert matched.status_code == 200, matched.text
    assert len(matched.json()["panel"]) == 2

    url = f"/v1/calls/{call['id']}/invitations"
    problem(await gw.client.post(url, headers=other_body), 404, "not-found")
    problem(
        await gw.client.post(url, headers=body_headers, json={"bogus": 1}), 422, "validation-error"
    )
    invited = await gw.client.post(
        url, headers={**body_headers, "Idempotency-Key": "k1"}, json={"message": "Join us"}
    )
    assert invited.status_code == 201, invited.text
    assert len(invited.json()["items"]) == 2
    replay = await gw.client.post(
        url, headers={**body_headers, "Idempotency-Key": "k1"}, json={"message": "Join us"}
    )
    assert replay.json() == invited.json()
    assert "contact_citizen_id" not in invited.text

    # Citizens see their own invitation with "why you"; another's is a 404.
    mine = (await gw.client.get("/v1/me/invitations", headers=consenting_headers)).json()
    (item,) = mine["items"]
    assert item["call_id"] == call["id"]
    detail = await gw.client.get(f"/v1/me/invitations/{item['id']}", headers=consenting_headers)
    assert detail.status_code == 200
    assert detail.json()["why_you"]["evidence"]
    assert detail.json()["message"] == "Join us"
    problem(
        await gw.client.get(f"/v1/me/invitations/{item['id']}", headers=private_headers),
        404,
        "not-found",
    )
    problem(
        await gw.client.post(f"/v1/me/invitations/{item['id']}/accept", headers=private_headers),
        404,
        "not-found",
    )

    # Before acceptance: no personal data for the body.
    listing = await gw.client.get(url, headers=body_headers)
    assert consenting["email"] not in listing.text
    assert all(i["contact"] is None for i in listing.json()["items"])

    accept = f"/v1/me/invitations/{item['id']}/accept"
    problem(
        await gw.client.post(accept, headers=consenting_headers, json={"hours_offered": 9}),
        422,
        "validation-error",
    )
    accepted = await gw.client.post(accept, headers=consenting_headers, json={"hours_offered": 2})
    assert accepted.status_code == 200, accepted.text
    problem(
        await gw.client.post(accept, headers=consenting_headers), 409, "invitation-already-answered"
    )
    (private_item,) = (await gw.client.get("/v1/me/invitations", headers=private_headers)).json()[
        "items"
    ]
    private_accept = f"/v1/me/invitations/{private_item['id']}/accept"
    assert (await gw.client.post(private_accept, headers=private_headers)).status_code == 200

    listing = (await gw.client.get(url, headers=body_headers)).json()["items"]
    contacts = {i["ref"]: i["contact"] for i in listing}
    shown = [c for c in contacts.values() if c is not None]
    assert shown == [{"name": "Cy Clist", "email": consenting["email"]}]
    assert private["email"] not in str(listing)
    problem(await gw.client.get(url, headers=other_body), 404, "not-found")

    ref = next(i["ref"] for i in listing if i["contact"] is not None)
    rating_url = f"/v1/calls/{call['id']}/contributions/{ref}/rating"
    problem(
        await gw.client.post(rating_url, headers=body_headers, json={"rating": 5}),
        409,
        "contribution-not-submitted",
    )
    submitted = await gw.client.post(
        f"/v1/me/invitations/{item['id']}/contribution",
        headers=consenting_headers,
        json={"comment": "Kerbs, not paint, keep the lane protected."},
    )
    assert submitted.status_code == 200, submitted.text
    rated = await gw.client.post(rating_url, headers=body_headers, json={"rating": 5})
    assert rated.status_code == 201, rated.text
    problem(
        await gw.client.post(rating_url, headers=body_headers, json={"rating": 4}),
        409,
        "duplicate-rating",
    )
    await gw.sync()
    record = gw.matcher_app.state.evidence.store.get(consenting["id"])
    assert record is not None
    assert record.snapshot.rating.count == 1
    assert record.snapshot.contributions[0].text == "Kerbs, not paint, keep the lane protected."
    assert record.snapshot.contributions[0].topic is None

    close_url = f"/v1/calls/{call['id']}/close"
    closed = await gw.client.post(close_url, headers=body_headers, json={"outcome": "Built it."})
    assert closed.status_code == 200, closed.text
    assert closed.json()["notified"] == 2
    problem(
        await gw.client.post(close_url, headers=body_headers, json={"outcome": "x"}),
        409,
        "call-closed",
    )

    # The citizen's export holds what the matcher keeps about them, and nothing of others.
    exported = await gw.client.get("/v1/me/export", headers=consenting_headers)
    assert exported.status_code == 200, exported.text
    assert exported.json()["incomplete"] == []
    held = exported.json()["matcher"]
    assert held["citizen_id"] == consenting["id"]
    (invitation,) = held["invitations"]
    assert (invitation["call_id"], invitation["status"]) == (call["id"], "accepted")
    assert (invitation["message"], invitation["hours_offered"]) == ("Join us", 2)
    assert invitation["rating"]["rating"] == 5
    assert invitation["outcome"] == "Built it."
    assert invitation["explanation"]["evidence"]
    assert [e["call_id"] for e in held["exposure"]] == [call["id"]]
    assert {n["kind"] for n in held["notifications"]} == {"invitation", "outcome"}
    assert private["id"] not in exported.text

    stats = (await gw.client.get("/v1/organisation/stats", headers=body_headers)).json()
    assert stats["invitations_sent"] == 2
    assert stats["acceptance_rate"] == 1.0
    problem(
        await gw.client.put(
            "/v1/organisation/webhook", headers=body_headers, json={"url": "http://10.0.0.1/x"}
        ),
        422,
        "invalid-webhook-url",
    )
    figures = await gw.client.get("/v1/admin/exposure", headers=gw.admin)
    assert figures.status_code == 200, figures.text
    assert figures.json()["invitations"] == 2
    assert figures.json()["new_voices_share"] == 1.0
    assert figures.json()["lorenz"][-1] == {"population": 1.0, "share": 1.0}
    assert figures.json()["citizens_at_monthly_cap"] == 0
    dead = await gw.client.get("/v1/admin/notifications/dead", headers=gw.admin)
    assert dead.status_code == 200
    assert dead.json()["items"] == []
    problem(await gw.client.get("/v1/admin/exposure", headers=consenting_headers), 403, "forbidden")


async def test_body_withdraws_one_invitation_then_answering_it_is_a_conflict(
    calls_gateway: CallsGateway,
) -> None:
    gw = calls_gateway
    _, citizen_headers = await signed_in_cyclist(gw, contact=True)
    await gw.sync()
    _, body_headers = await gw.public_body()
    _, other_body = await gw.public_body()
    call = (
        await gw.client.post(
            "/v1/calls", headers=body_headers, json={**call_body(), "panel_size": 1}
        )
    ).json()
    matched = await gw.client.post(f"/v1/calls/{call['id']}/match", headers=body_headers)
    assert matched.status_code == 200, matched.text
    invited = await gw.client.post(f"/v1/calls/{call['id']}/invitations", headers=body_headers)
    assert invited.status_code == 201, invited.text
    (item,) = invited.json()["items"]
    mine = f"/v1/me/invitations/{item['id']}"
    accepted = await gw.client.post(mine + "/accept", headers=citizen_headers)
    assert accepted.status_code == 200, accepted.text

    withdraw = f"/v1/calls/{call['id']}/invitations/{item['id']}/withdraw"
    problem(await gw.client.post(withdraw), 401, "authentication-required")
    problem(await gw.client.post(withdraw, headers=citizen_headers), 403, "forbidden")
    problem(await gw.client.post(withdraw, headers=other_body), 404, "not-found")
    withdrawn = await gw.client.post(withdraw, headers=body_headers)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["contact"] is None
    assert "contact_citizen_id" not in withdrawn.text
    problem(await gw.client.post(withdraw, headers=body_headers), 409, "invitation-withdrawn")

    seen = await gw.client.get(mine, headers=citizen_headers)
    assert seen.json()["status"] == "withdrawn"
    for action in ("accept", "decline", "undo"):
        problem(
            await gw.client.post(f"{mine}/{action}", headers=citizen_headers),
            409,
            "invitation-withdrawn",
        )
    listing = (
        await gw.client.get(f"/v1/calls/{call['id']}/invitations", headers=body_headers)
    ).json()
    assert [i["status"] for i in listing["items"]] == ["withdrawn"]
    assert all(i["contact"] is None for i in listing["items"])
