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
