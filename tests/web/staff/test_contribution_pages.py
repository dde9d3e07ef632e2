"""Contribution pages through the web app over the REAL gateway, matcher and profiles apps:
the citizen writes, checks, submits, changes and withdraws their contribution (JS off: plain
forms, POST -> redirect -> GET, error summary); staff read and rate it and cite it when
closing; the citizen sees the outcome and their cited answer. Answers a citizen typed are
rendered inert on every page that shows them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx

from tests.web.conftest import Browser
from tests.web.staff.conftest import StaffBrowser
from tests.web.staff.test_staff_pages import error_summary, heading
from tests.web.test_citizen_pages import _headers, assert_inert, visible_text

QUESTION = "How should the junction at Oxford Road work?"
OTHER_QUESTION = "What worries you about the lanes?"
XSS = 'Kerbs <script>alert(1)</script> "><img src=x onerror=alert(2)> and paint'


async def citizen_invited(staff_web: StaffBrowser) -> tuple[Browser, str, str, dict[str, str]]:
    """A citizen signed in on the web app and invited to the staff's body's call with
    questions: (citizen browser, invitation page url, call id, the body's key headers)."""
    gw = staff_web.calls
    assert gw is not None
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=staff_web.app), base_url="http://web.test"
    )
    web = Browser(client=client, app=staff_web.app, gateway=gw)
    await web.sign_up_and_in(email=f"con-{uuid.uuid4().hex[:8]}@example.org", name="Cy Clist")
    added = await web.submit(
        "/profile/skills", {"label": "protected bike lane design", "level": "can_do"}
    )
    assert added.status_code == 303
    consent = await web.submit(
        "/profile/consent/change",
        {"consent": ["matching", "contact"]},  # type: ignore[dict-item]
        form_page="/profile/consent/change",
    )
    assert consent.status_code == 303
    me = await gw.client.get("/v1/me", headers=await _headers(web))
    verified = await gw.profiles.put(
        f"/v1/citizens/{me.json()['id']}/email-verification", json={"verified": True}
    )
    assert verified.status_code == 204, verified.text
    await gw.sync()
    body = await gw.api_key(staff_web.organisation_id)
    call = await gw.client.post(
        "/v1/calls",
        headers=body,
        json={
            "title": "Protected lanes on Oxford Road",
            "description": "Segregated cycle lanes on Oxford Road: how should they work?",
            "questions": [QUESTION, OTHER_QUESTION],
            "skills": [{"label": "protected bike lane design"}],
            "hours": 2,
            "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
            "panel_size": 1,
        },
    )
    assert call.status_code == 201, call.text
    call_id = call.json()["id"]
    matched = await gw.client.post(f"/v1/calls/{call_id}/match", headers=body)
    assert matched.json()["panel"], matched.text[:1000]
    sent = await gw.client.post(f"/v1/calls/{call_id}/invitations", headers=body)
    assert sent.status_code == 201, sent.text
    inbox = await web.get("/invitations")
    link = inbox.text.split('href="/invitations/')[1].split('"')[0]
    return web, f"/invitations/{link}", call_id, body


async def test_citizen_writes_staff_rate_and_cite_citizen_sees_what_was_done(
    staff_web: StaffBrowser,
) -> None:
    web, url, call_id, _ = await citizen_invited(staff_web)
    page = await web.get(url)
    assert "Write your contribution" not in page.text  # not before accepting
    accepted = await web.submit(f"{url}/accept", {}, form_page=url)
    assert accepted.status_code == 303
    page = await web.get(url)
    assert "Your contribution" in visible_text(page.text)
    assert f'action="{url}/contribution" class="app-go-button"' in page.text

    form_url = f"{url}/contribution"
    form = await web.get(form_url)
    assert form.status_code == 200
    assert heading(form) == "Your contribution"  # type: ignore[arg-type]
    assert form.text.count("<h1") == 1
    for n, question in enumerate((QUESTION, OTHER_QUESTION)):
        assert f'<label class="govuk-label govuk-label--s" for="answer-{n}">' in form.text
        assert question in form.text
    assert 'for="comment"' in form.text

    # Nothing typed: the error summary links to the first answer.
    empty = await web.submit(form_url, {"answer-0": " ", "answer-1": ""})
    assert empty.status_code == 303
    assert empty.headers["location"] == form_url
    again = await web.get(form_url)
    assert error_summary(again) == ["Answer at least one question, or write a comment"]  # type: ignore[arg-type]
    assert 'href="#answer-0"' in again.text
    too_long = await web.submit(form_url, {"answer-0": "x" * 10_001})
    assert too_long.status_code == 303
    assert error_summary(await web.get(form_url)) == [  # type: ignore[arg-type]
        "Answer 1 must be 10,000 characters or fewer"
    ]

    # Continue -> check your answers -> submit.
    cont = await web.submit(form_url, {"answer-0": XSS, "answer-1": "", "comment": "Thanks."})
    assert cont.status_code == 303
    assert cont.headers["location"] == f"{form_url}/check"
    check = await web.get(f"{form_url}/check")
    assert heading(check) == "Check your contribution"  # type: ignore[arg-type]
    assert_inert(check.text, where="check")
    assert XSS in visible_text(check.text)
    assert OTHER_QUESTION not in check.text  # a blank answer is left out
    submitted = await web.submit(f"{form_url}/submit", {}, form_page=f"{form_url}/check")
    assert submitted.status_code == 303
    assert submitted.headers["location"] == url
    page = await web.get(url)
    assert "Your contribution was submitted" in page.text
    assert_inert(page.text, where=url)
    assert XSS in visible_text(page.text)

    # Change: the form shows what was submitted; the new text replaces it.
    form = await web.get(form_url)
    assert "Kerbs &lt;script&gt;" in form.text
    await web.submit(form_url, {"answer-0": XSS, "answer-1": "Speeding taxis."})
    await web.submit(f"{form_url}/submit", {}, form_page=f"{form_url}/check")
    assert "Speeding taxis." in visible_text((await web.get(url)).text)

    # Staff read it (inert) and rate it.
    answers_url = f"/calls/{call_id}/answers"
    answers = await staff_web.get(answers_url)
    assert answers.status_code == 200
    assert_inert(answers.text, where=answers_url)
    shown = visible_text(answers.text)
    assert XSS in shown
    assert "Speeding taxis." in shown
    assert "Contribution from Cy Clist" in shown  # consented to contact
    ref = answers.text.split(f'action="/calls/{call_id}/answers/')[1].split("/rating")[0]
    rated = await staff_web.submit(
        f"{answers_url}/{ref}/rating", {"rating": "5"}, form_page=answers_url
    )
    assert rated.status_code == 303
    answers = await staff_web.get(answers_url)
    assert "5 out of 5" in answers.text

    # Rated: the citizen can no longer change or withdraw it.
    page = await web.get(url)
    assert "has read and rated your contribution" in page.text
    assert "Withdraw your contribution" not in page.text
    assert (await web.get(form_url)).status_code == 404

    # Closing cites the first answer; the citizen sees the outcome and that answer.
    close_url = f"/calls/{call_id}/close"
    close = await staff_web.get(close_url)
    assert_inert(close.text, where=close_url)
    assert f'value="{ref}:0"' in close.text
    closed = await staff_web.submit(
        close_url,
        {"how": "close", "outcome": "Kerbed lanes, as you said.", "cited": f"{ref}:0"},
    )
    assert closed.status_code == 303, closed.text
    page = await web.get(url)
    shown = visible_text(page.text)
    assert "Kerbed lanes, as you said." in shown
    assert "Your answers they cited" in shown
    cited = shown.split("Your answers they cited")[1]
    assert QUESTION in cited
    assert XSS in cited
    assert_inert(page.text, where=url)
    await web.client.aclose()


async def test_citizen_withdraws_and_declined_citizen_asks_for_the_outcome(
    staff_web: StaffBrowser,
) -> None:
    web, url, call_id, body = await citizen_invited(staff_web)
    await web.submit(f"{url}/accept", {}, form_page=url)
    form_url = f"{url}/contribution"
    await web.submit(form_url, {"comment": "Only a comment."})
    await web.submit(f"{form_url}/submit", {}, form_page=f"{form_url}/check")
    page = await web.get(url)
    assert "Only a comment." in visible_text(page.text)
    withdrawn = await web.submit(f"{form_url}/withdraw", {}, form_page=url)
    assert withdrawn.status_code == 303
    page = await web.get(url)
    assert "Your contribution was withdrawn." in page.text
    assert "Only a comment." not in visible_text(page.text)
    answers = await staff_web.get(f"/calls/{call_id}/answers")
    assert "No contributions yet" in answers.text

    # Declined: the citizen may ask to be told the outcome.
    await web.submit(f"{url}/undo", {}, form_page=url)
    await web.submit(f"{url}/decline", {"reason": "no_time"}, form_page=url)
    page = await web.get(url)
    assert "Tell me the outcome" in page.text
    followed = await web.submit(f"{url}/follow-outcome", {}, form_page=url)
    assert followed.status_code == 303
    page = await web.get(url)
    assert "We will email you the outcome when the call closes." in page.text
    gw = staff_web.calls
    assert gw is not None
    closed = await gw.client.post(
        f"/v1/calls/{call_id}/close", headers=body, json={"outcome": "We paused the scheme."}
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["notified"] == 1
    assert "We paused the scheme." in visible_text((await web.get(url)).text)
    await web.client.aclose()
