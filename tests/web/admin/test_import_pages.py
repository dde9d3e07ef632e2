"""Import pages through the web app over the real gateway, profiles and matcher: the admin's
upload (multipart with CSRF), the progress page with its refresh link and rejected rows, and
the citizen's confirmation page ("we found N of your past responses ...")."""

from __future__ import annotations

import asyncio
import html
import json
import uuid
from pathlib import Path

import httpx

from tests.web.conftest import CSRF
from tests.web.staff.conftest import StaffBrowser
from tests.web.staff.test_staff_pages import error_summary


def rows(email: str) -> bytes:
    good = {
        "source": "Example Council",
        "external_id": f"web-{uuid.uuid4().hex[:6]}",
        "respondent_email": email,
        "responded_at": "2024-01-02",
        "question": "Should the library open on Sundays?",
        "response_text": "Yes: I work weekdays and Sunday is my only free day.",
    }
    bad = {**good, "external_id": "web-bad", "rating": 7}
    return (json.dumps(good) + "\n" + json.dumps(bad) + "\n").encode()


async def test_admin_uploads_sees_progress_and_rejected_rows_citizen_confirms(
    admin_web: StaffBrowser,
) -> None:
    assert admin_web.calls is not None
    email = f"reader-{uuid.uuid4().hex[:6]}@example.org"
    await admin_web.calls.citizen(email=email)

    form = await admin_web.get("/admin/imports")
    assert form.status_code == 200
    assert 'enctype="multipart/form-data"' in form.text
    token = await admin_web.csrf("/admin/imports")
    missing = await admin_web.client.post(
        "/admin/imports", data={"csrf_token": token, "format": "jsonl"}
    )
    assert missing.status_code == 303
    page = await admin_web.get("/admin/imports")
    assert error_summary(page) == ["Select a file to import"]

    forged = await admin_web.client.post(
        "/admin/imports",
        data={"csrf_token": "forged", "format": "jsonl"},
        files={"file": ("r.jsonl", rows(email), "application/octet-stream")},
    )
    assert forged.status_code in (400, 403)

    token = await admin_web.csrf("/admin/imports")
    uploaded = await admin_web.client.post(
        "/admin/imports",
        data={"csrf_token": token, "format": "jsonl"},
        files={"file": ("r.jsonl", rows(email), "application/octet-stream")},
    )
    assert uploaded.status_code == 303, uploaded.text
    location = uploaded.headers["location"]
    assert location.startswith("/admin/imports/")
    for _ in range(100):
        progress = await admin_web.get(location)
        assert progress.status_code == 200
        if "Succeeded" in progress.text:
            break
        assert "Refresh to see progress" in progress.text
        await asyncio.sleep(0.05)
    assert "<progress" in progress.text
    assert "Rejected rows" in progress.text
    assert "rating must be an integer from 1 to 5" in progress.text
    assert "http-equiv" not in progress.text  # no meta refresh

    # The citizen, signed in on their own browser, is asked.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=admin_web.app), base_url="http://web.test"
    ) as client:
        citizen = StaffBrowser(client=client, app=admin_web.app, gateway=admin_web.gateway)
        await citizen.sign_in(email)
        ask = await citizen.get("/account/imports")
        assert ask.status_code == 200
        assert (
            "We found 1 of your past responses to Example Council consultations: use them as "
            "evidence?" in html.unescape(ask.text)
        )
        token_match = CSRF.search(ask.text)
        assert token_match is not None
        unanswered = await client.post("/account/imports", data={"csrf_token": token_match[1]})
        assert unanswered.status_code == 303
        assert error_summary(await citizen.get("/account/imports")) == [
            "Select yes if we may use these responses as evidence"
        ]
        said_yes = await citizen.submit("/account/imports", {"use": "yes"})
        assert said_yes.status_code == 303
        done = await citizen.get("/account/imports")
        assert "no past consultation responses waiting" in done.text


async def test_citizen_uploads_answers_from_a_qa_site(admin_web: StaffBrowser) -> None:
    assert admin_web.calls is not None
    email = f"answerer-{uuid.uuid4().hex[:6]}@example.org"
    await admin_web.calls.citizen(email=email)
    content = (Path(__file__).resolve().parents[2] / "fixtures/answers-export.json").read_bytes()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=admin_web.app), base_url="http://web.test"
    ) as client:
        citizen = StaffBrowser(client=client, app=admin_web.app, gateway=admin_web.gateway)
        await citizen.sign_in(email)
        page = await citizen.get("/account/answers")
        assert page.status_code == 200
        assert 'enctype="multipart/form-data"' in page.text
        token = await citizen.csrf("/account/answers")
        uploaded = await client.post(
            "/account/answers",
            data={"csrf_token": token},
            files={"file": ("answers.json", content, "application/json")},
        )
        assert uploaded.status_code == 303, uploaded.text
        shown = html.unescape((await citizen.get("/account/answers")).text)
        assert "3 answers added" in shown
        assert "score must be an integer" in shown
        assert "How do I stop my disc brakes squealing?" in shown
