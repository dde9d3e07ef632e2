"""Invitation pages through the ASGI app over the real gateway, matcher and profiles apps:
the inbox, one invitation with "why you", each invalid answer's error summary, accept /
undo / decline, past calls, and a council's text (title, message) rendered inert."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from convene_web.main import create_app
from tests.gateway.conftest import (  # noqa: F401  (fixtures)
    CallsGateway,
    calls_gateway,
    matcher_app,
    sentence_model,
)
from tests.web.conftest import Browser, web_settings
from tests.web.test_citizen_pages import _headers, assert_inert, visible_text

TITLE = 'Bike lanes <script>alert(1)</script> "><img src=x onerror=alert(2)>'
MESSAGE = "Join us' onmouseover='alert(3)"


@pytest.fixture
async def calls_web(calls_gateway: CallsGateway) -> AsyncIterator[tuple[Browser, CallsGateway]]:  # noqa: F811
    app = create_app(web_settings(), gateway_transport=httpx.ASGITransport(app=calls_gateway.app))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://web.test"
        ) as client,
    ):
        yield Browser(client=client, app=app, gateway=calls_gateway), calls_gateway


async def invited(web: Browser, gw: CallsGateway) -> str:
    await web.sign_up_and_in(email=f"inv-{uuid.uuid4().hex[:8]}@example.org", name="Cy Clist")
    for label in ("cycling infrastructure design", "protected bike lane design"):
        added = await web.submit("/profile/skills", {"label": label, "level": "can_do"})
        assert added.status_code == 303
    consent = await web.submit(
        "/profile/consent/change", {"consent": "matching"}, form_page="/profile/consent/change"
    )
    assert consent.status_code == 303
    # The email confirmation itself is the browser journey's (a link from the real mail);
    # here profiles is told directly, as the gateway does once the link is followed.
    me = await gw.client.get("/v1/me", headers=await _headers(web))
    verified = await gw.profiles.put(
        f"/v1/citizens/{me.json()['id']}/email-verification", json={"verified": True}
    )
    assert verified.status_code == 204, verified.text
    await gw.sync()
    _, body = await gw.public_body(name="Manchester City Council")
    call = await gw.client.post(
        "/v1/calls",
        headers=body,
        json={
            "title": TITLE,
            "description": "Segregated cycle lanes on Oxford Road: how do you cycle the route?",
            "skills": [{"label": "cycling infrastructure design"}],
            "hours": 3,
            "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
            "panel_size": 1,
        },
    )
    assert call.status_code == 201, call.text
    call_id = call.json()["id"]
    matched = await gw.client.post(f"/v1/calls/{call_id}/match", headers=body)
    assert matched.json()["panel"], matched.text[:1500]
    sent = await gw.client.post(
        f"/v1/calls/{call_id}/invitations", headers=body, json={"message": MESSAGE}
    )
    assert sent.status_code == 201, sent.text
    inbox = await web.get("/invitations")
    assert inbox.status_code == 200
    link = inbox.text.split('href="/invitations/')[1].split('"')[0]
    return f"/invitations/{link}"


async def test_inbox_invitation_answers_and_inert_council_text(
    calls_web: tuple[Browser, CallsGateway],
) -> None:
    web, gw = calls_web
    url = await invited(web, gw)
    inbox = await web.get("/invitations")
    assert "New (1)" in inbox.text
    assert "Accepted (0)" in inbox.text
    assert_inert(inbox.text, where="/invitations")
    assert TITLE in visible_text(inbox.text)

    page = await web.get(url)
    assert page.status_code == 200
    assert_inert(page.text, where=url)
    shown = visible_text(page.text)
    assert TITLE in shown
    assert MESSAGE in shown
    assert "Why you were invited" in shown
    assert "cycling infrastructure design" in shown
    assert ">Accept<" in page.text.replace("\n", "").replace(" ", "")
    assert ">Decline<" in page.text.replace("\n", "").replace(" ", "")

    for action, data, message in (
        ("accept", {"hours_offered": "9"}, "The hours you can give must be 3 or fewer"),
        ("accept", {"hours_offered": "lots"}, "Enter the hours you can give as a number"),
        ("decline", {"reason": "bogus"}, "Select a reason from the list"),
    ):
        posted = await web.submit(f"{url}/{action}", data, form_page=url)
        assert posted.headers["location"] == url
        again = await web.get(url)
        assert "There is a problem" in again.text, action
        assert message in again.text, action

    accepted = await web.submit(f"{url}/accept", {"hours_offered": "1.5"}, form_page=url)
    assert accepted.status_code == 303
    page = await web.get(url)
    assert "You accepted" in page.text
    assert "1.5 hours" in page.text
    assert "Accepted (1)" in (await web.get("/invitations")).text
    await web.submit(f"{url}/undo", {}, form_page=url)
    declined = await web.submit(f"{url}/decline", {"reason": "no_time"}, form_page=url)
    assert declined.status_code == 303
    assert "Declined (1)" in (await web.get("/invitations")).text
    past = await web.get("/past-calls")
    assert past.status_code == 200
    assert (await web.get("/invitations/" + str(uuid.uuid4()))).status_code == 404


SECRET_SKILL = "cycling infrastructure design"
DIARY = (
    "I kept a cycling diary for two years on the Oxford Road corridor. "
    "Every morning I logged where buses pulled across the painted lane and where taxis "
    "stopped to load outside the university buildings and the hospital entrance. "
    "In winter the gullies flooded at the Booth Street junction, pushing riders into the "
    "general traffic lane at exactly the point where left turning lorries cut across. "
    "I shared these notes with the local cycling campaign and with two councillors, who "
    "used them to argue for a kerb-protected lane and floating bus stops along the route. "
    "I also ran three led rides for new commuters, showing them the quieter parallel "
    "streets and how to signal safely through the big junctions at rush hour."
)


async def test_what_we_use_to_match_you_and_private_why_you(
    calls_web: tuple[Browser, CallsGateway],
) -> None:
    """The evidence page shows every item the matcher holds (an experience entry's passages
    one by one, private items marked private); the citizen's own "why you" shows a private
    item in full while the body reads "private evidence"."""
    from convene_matcher.evidence.passages import split_passages

    web, gw = calls_web
    await web.sign_up_and_in(email=f"ev-{uuid.uuid4().hex[:8]}@example.org", name="Pri Vate")
    headers = await _headers(web)
    skill = await gw.client.post(
        "/v1/me/skills",
        headers=headers,
        json={"label": SECRET_SKILL, "level": "can_do", "visible_to_bodies": False},
    )
    assert skill.status_code == 201, skill.text
    entry = await gw.client.post(
        "/v1/me/experience",
        headers=headers,
        json={"kind": "campaign", "title": "Oxford Road cycling diary", "description": DIARY},
    )
    assert entry.status_code == 201, entry.text
    await web.submit("/profile/roles", {"role": TITLE})  # user text, shown inert
    await web.submit("/profile/consent/change", {"consent": "matching"})
    me = await gw.client.get("/v1/me", headers=headers)
    verified = await gw.profiles.put(
        f"/v1/citizens/{me.json()['id']}/email-verification", json={"verified": True}
    )
    assert verified.status_code == 204, verified.text
    await gw.sync()

    held = await gw.client.get("/v1/me/evidence", headers=headers)
    assert held.status_code == 200, held.text
    assert held.json()["held"] is True
    items = held.json()["items"]
    passages = [i["text"] for i in items if i["kind"] == "experience"]
    assert passages == split_passages(f"Oxford Road cycling diary. {DIARY}")
    assert len(passages) >= 2
    assert all(
        i["entry_kind"] == "campaign" and not i["private"]
        for i in items
        if i["kind"] == "experience"
    )
    (secret,) = [i for i in items if i["kind"] == "skill"]
    assert secret == {**secret, "text": SECRET_SKILL, "level": "can_do", "private": True}

    page = await web.get("/profile/evidence")
    assert page.status_code == 200
    shown = visible_text(page.text)
    for passage in passages:
        assert passage in shown
    assert shown.count("From your campaign entry “Oxford Road cycling diary”") == len(passages)
    assert SECRET_SKILL in shown
    assert shown.count("No: private") == 1
    assert "I can do it" in shown
    assert TITLE in shown
    assert_inert(page.text, where="/profile/evidence")

    # The body's explanation hides the private skill; the citizen's "why you" does not.
    _, body = await gw.public_body(name="Manchester City Council")
    call = await gw.client.post(
        "/v1/calls",
        headers=body,
        json={
            "title": "Cycling infrastructure on Oxford Road",
            "description": "Cycling infrastructure design for a protected lane.",
            "skills": [{"label": SECRET_SKILL}],
            "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
            "panel_size": 1,
        },
    )
    assert call.status_code == 201, call.text
    call_id = call.json()["id"]
    matched = await gw.client.post(f"/v1/calls/{call_id}/match", headers=body)
    (candidate,) = matched.json()["candidates"]
    assert "private evidence" in {e["text"] for e in candidate["evidence"]}
    assert SECRET_SKILL not in matched.text
    sent = await gw.client.post(f"/v1/calls/{call_id}/invitations", headers=body)
    assert sent.status_code == 201, sent.text
    assert SECRET_SKILL not in sent.text
    listed = await gw.client.get(f"/v1/calls/{call_id}/invitations", headers=body)
    assert "private evidence" in listed.text
    assert SECRET_SKILL not in listed.text

    (invitation,) = (await gw.client.get("/v1/me/invitations", headers=headers)).json()["items"]
    detail = await gw.client.get(f"/v1/me/invitations/{invitation['id']}", headers=headers)
    evidence = detail.json()["why_you"]["evidence"]
    assert "private evidence" not in {e["text"] for e in evidence}
    assert {"text": SECRET_SKILL, "private": True, "level": "can_do"}.items() <= next(
        e for e in evidence if e["kind"] == "skill"
    ).items()
    page = await web.get(f"/invitations/{invitation['id']}")
    shown = visible_text(page.text)
    assert f"{SECRET_SKILL} (skill, private: the body read “private evidence”)" in shown
    assert "private evidence (skill" not in shown
