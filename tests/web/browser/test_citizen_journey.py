"""A citizen, in Chromium, using only the pages and the mail sink: signs up, confirms the
email, builds a profile, and accepts an invitation a council sent through the API. Once with
JavaScript on and once with it off; signing in and accepting by keyboard alone with it on, and
starting, confirming the email, adding a role, undoing an answer and signing out by keyboard
alone in both. axe-core (WCAG 2.2 AA) on every page visited, error states included: 0
violations.
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from convene_matcher.routing.refs import candidate_ref
from scripts.suite import REPO_ROOT
from tests.web.browser.conftest import (
    LiveSite,
    new_page,
    no_script_checker,
    screenshot_path,
    wait_for,
)
from tests.web.browser.conftest import assert_accessible as check_accessible
from tests.web.staff.journeys import press

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.timeout(240)]
PASSWORD = "a long enough password"
LINK = re.compile(r"https?://[^\s\"'<>]+/verify-email\?token=[A-Za-z0-9_\-.%]+")


def bike_lane_call() -> dict[str, Any]:
    deadline = datetime.now(UTC) + timedelta(days=14)
    return {
        "title": "Protected bike lanes on Oxford Road",
        "description": (
            "Manchester City Council is planning segregated cycle lanes and junction changes "
            "on Oxford Road. We want to hear from people who plan streets, engineer traffic, "
            "cycle the route, or drive taxis along it."
        ),
        "questions": ["How should junctions and loading bays work with a protected lane?"],
        "skills": [{"label": "Cycling infrastructure design"}, {"label": "Traffic engineering"}],
        "perspectives": [{"role": "cyclist", "min": 1, "max": 3}],
        "hours": 2,
        "deadline": deadline.isoformat(),
        "panel_size": 3,
        "confidentiality": "public",
    }


def text_parts(message: Message) -> str:
    parts = message.walk() if message.is_multipart() else [message]
    chunks = []
    for part in parts:
        if part.get_content_type() in ("text/plain", "text/html"):
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                chunks.append(payload.decode("utf-8", "replace"))
    return "\n".join(chunks)


async def visible_focus(page: Page) -> bool:
    """GOV.UK's focus state: a yellow outline or a box-shadow on the focused element."""
    return bool(
        await page.evaluate(
            """() => {
                const s = getComputedStyle(document.activeElement);
                const outline = s.outlineStyle !== "none" && s.outlineColor !== "rgba(0, 0, 0, 0)"
                    && parseFloat(s.outlineWidth) > 0;
                return outline || s.boxShadow !== "none"
                    || s.backgroundColor === "rgb(255, 221, 0)";
            }"""
        )
    )


async def tab_to(page: Page, matches: str, *, limit: int = 80) -> None:
    """Presses Tab until the focused element matches the CSS selector; checks focus shows."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate("(s) => document.activeElement.matches(s)", matches):
            assert await visible_focus(page), f"no visible focus on {matches} at {page.url}"
            return
    raise AssertionError(f"{matches} not reachable with Tab on {page.url}")


async def journey(live: LiveSite, chromium: Browser, *, javascript: bool) -> None:
    context, page, watch = await new_page(chromium, javascript=javascript)
    checker_context, checker = (None, None) if javascript else await no_script_checker(chromium)
    visited: list[str] = []

    async def assert_accessible(page: Page, visited: list[str]) -> None:
        await check_accessible(page, visited, checker=checker)

    email = f"cyclist-{uuid.uuid4().hex[:8]}@web.e2e.example"
    try:
        # -- start, create an account (its error state first) -----------------------------
        await page.goto(live.web_url + "/")
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Share your expertise with your council"
        )
        await assert_accessible(page, visited)
        await press(page, "Start now")  # keyboard only (a link styled as a button: Enter)
        await expect(page).to_have_url(re.compile(r"/create-account\??$"))
        await assert_accessible(page, visited)
        await page.get_by_role("button", name="Create account").click()
        await expect(page.locator(".govuk-error-summary")).to_be_visible()
        await assert_accessible(page, visited)
        await page.get_by_label("Email address", exact=True).fill(email)
        await page.get_by_label("Password", exact=True).fill(PASSWORD)
        await page.get_by_label("Your name").fill("Cy Clist")
        await page.get_by_role("button", name="Create account").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
        await assert_accessible(page, visited)

        # -- confirm the email from the SMTP sink --------------------------------------------
        def mailed() -> bool:
            return any(LINK.search(text_parts(m)) for m in live.mails_to(email))

        await wait_for(mailed, timeout=30)
        (link,) = {
            match.group(0) for m in live.mails_to(email) if (match := LINK.search(text_parts(m)))
        }
        assert link.startswith(live.web_url + "/verify-email?token=")
        await page.goto(link)
        await assert_accessible(page, visited)
        await press(page, "Confirm email address", key="Space")  # keyboard only
        await expect(page.get_by_role("heading", level=1)).to_have_text("Email address confirmed")
        await assert_accessible(page, visited)

        # -- sign in (by keyboard alone with JavaScript on) ----------------------------------
        await page.get_by_role("link", name="Sign in").first.click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
        await assert_accessible(page, visited)
        if javascript:
            await tab_to(page, "#email")
            await page.keyboard.type(email)
            await tab_to(page, "#password")
            await page.keyboard.type(PASSWORD)
            await tab_to(page, "button.govuk-button:not(.govuk-password-input__toggle)")
            await page.keyboard.press("Enter")
        else:
            await page.get_by_label("Email address", exact=True).fill(email)
            await page.get_by_label("Password", exact=True).fill(PASSWORD)
            await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Your profile")
        await assert_accessible(page, visited)

        # -- build the profile through its task list ----------------------------------------
        await page.get_by_role("link", name="Skills and how well you know them").click()
        await page.get_by_role("button", name="Add skill").click()  # empty: the error state
        await expect(page.locator(".govuk-error-summary")).to_be_visible()
        await assert_accessible(page, visited)
        for label, level in (
            ("Cycling infrastructure design", "I can do it"),
            ("Road safety audits of junctions", "I can explain it"),
        ):
            await page.get_by_label("Skill", exact=True).fill(label)
            await page.get_by_label(level).check()
            await page.get_by_role("button", name="Add skill").click()
            await expect(page.get_by_text(label, exact=True)).to_be_visible()
        await assert_accessible(page, visited)
        await page.get_by_role("link", name="Return to your profile").click()

        await page.get_by_role("link", name="Lived experience").click()
        await page.get_by_label("Role").fill("cyclist")
        await press(page, "Add role")  # keyboard only
        await expect(page.locator(".govuk-summary-list")).to_contain_text("Cyclist")
        await assert_accessible(page, visited)
        await page.get_by_role("link", name="Return to your profile").click()

        await page.get_by_role("link", name="Where you live").click()
        await assert_accessible(page, visited)
        await page.get_by_role("link", name="Change").first.click()
        await page.get_by_label("Local authority code").fill("E0800000")  # one digit short
        await page.get_by_role("button", name="Save and continue").click()
        await expect(page.locator(".govuk-error-summary")).to_be_visible()
        await assert_accessible(page, visited)
        await page.get_by_label("Local authority code").fill("E08000003")
        await page.get_by_label("First part of your postcode (optional)").fill("M1")
        await page.get_by_role("button", name="Save and continue").click()
        await expect(page.get_by_text("Check your answers")).to_be_visible()
        await expect(page.locator(".govuk-summary-list")).to_contain_text("E08000003")
        await page.get_by_role("link", name="Return to your profile").click()

        await page.get_by_role("link", name="Consent").click()
        await page.get_by_role("link", name="Change").first.click()
        await assert_accessible(page, visited)
        await page.get_by_label("Share my contact details when I accept an invitation").check()
        await page.get_by_role("button", name="Save and continue").click()
        await expect(page.locator(".govuk-summary-list")).to_contain_text("Yes")
        await page.get_by_role("link", name="Return to your profile").click()

        await page.get_by_role("link", name="See every piece of evidence").click()
        await expect(page.locator("table")).to_contain_text("Cycling infrastructure design")
        await assert_accessible(page, visited)

        # -- a council posts the call and invites them (through the API, as a body) ----------
        invitation_id = await invite_through_the_api(live, email=email)

        # -- the citizen answers on the pages --------------------------------------------------
        await page.get_by_role("link", name="Invitations", exact=True).click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Invitations")
        await assert_accessible(page, visited)
        await page.get_by_role("link", name="Protected bike lanes on Oxford Road").click()
        await expect(page).to_have_url(re.compile(f"/invitations/{invitation_id}$"))
        await expect(page.get_by_role("heading", name="Why you were invited")).to_be_visible()
        await expect(page.get_by_text("Cycling infrastructure design").first).to_be_visible()
        await assert_accessible(page, visited)
        if javascript:
            await page.screenshot(path=str(screenshot_path("screenshot-citizen-invitation.png")))
        await page.get_by_label("Hours you can give (optional)").fill("5")  # above the 2 asked
        await page.get_by_role("button", name="Accept").click()
        await expect(page.locator(".govuk-error-summary")).to_be_visible()
        await assert_accessible(page, visited)
        await page.get_by_label("Hours you can give (optional)").fill("1.5")
        if javascript:
            await tab_to(page, "form[action$='/accept'] button")
            await page.keyboard.press("Enter")
        else:
            await page.get_by_role("button", name="Accept").click()
        await expect(page.locator(".govuk-tag").first).to_have_text("Accepted")
        await expect(page.get_by_text("1.5 hours")).to_be_visible()
        await assert_accessible(page, visited)
        await press(page, "Undo my answer", key="Space")  # keyboard only
        await expect(page.get_by_role("button", name="Decline")).to_be_visible()
        await page.get_by_role("button", name="Accept").click()
        await expect(page.locator(".govuk-tag").first).to_have_text("Accepted")

        await page.get_by_role("link", name="Invitations", exact=True).click()
        await expect(page.get_by_role("heading", name="Accepted (1)")).to_be_visible()
        await page.get_by_role("link", name="Sign out").click()
        await assert_accessible(page, visited)
        await tab_to(page, "main form button.govuk-button")  # keyboard only (the header
        await page.keyboard.press("Enter")  # has a "Sign out" link too)
        await expect(page.get_by_role("heading", level=1)).to_have_text("You have signed out")
        # No CSP violation or script error on any page so far (the 404 below logs its status).
        assert watch.problems == [], watch.problems
        await page.goto(live.web_url + "/no-such-page")
        await assert_accessible(page, visited)
        assert len(visited) >= 20
    except Exception:
        failure = REPO_ROOT / ".run" / f"web-failure-{'js' if javascript else 'nojs'}.html"
        failure.parent.mkdir(exist_ok=True)
        failure.write_text(await page.content())
        raise
    finally:
        await context.close()
        if checker_context is not None:
            await checker_context.close()


async def invite_through_the_api(live: LiveSite, *, email: str) -> str:
    async with httpx.AsyncClient(base_url=live.gateway_url, timeout=30) as client:
        signed = await client.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
        assert signed.status_code == 200, signed.text
        me = {"Authorization": f"Bearer {signed.json()['access_token']}"}
        citizen_id = (await client.get("/v1/me", headers=me)).json()["id"]
        body = {"X-API-Key": live.api_key}
        posted = await client.post("/v1/calls", headers=body, json=bike_lane_call())
        assert posted.status_code == 201, posted.text
        call_id = posted.json()["id"]
        ref = candidate_ref(
            secret=live.ref_secret.encode(), call_id=uuid.UUID(call_id), citizen_id=citizen_id
        )

        async def matched() -> bool:
            answer = await client.post(f"/v1/calls/{call_id}/match", headers=body)
            assert answer.status_code == 200, answer.text
            return ref in {c["ref"] for c in answer.json()["candidates"]}

        await wait_for(matched, timeout=60, interval=0.5)
        invited = await client.post(
            f"/v1/calls/{call_id}/invitations",
            headers=body,
            json={"refs": [ref], "message": "We would value your view on Oxford Road."},
        )
        assert invited.status_code == 201, invited.text
        listing = (await client.get("/v1/me/invitations", headers=me)).json()["items"]
        (mine,) = [item for item in listing if item["call_id"] == call_id]
        return str(mine["id"])


async def test_citizen_journey_with_javascript(live: LiveSite, chromium: Browser) -> None:
    started = time.monotonic()
    await journey(live, chromium, javascript=True)
    assert time.monotonic() - started < 150


async def test_citizen_journey_without_javascript(live: LiveSite, chromium: Browser) -> None:
    started = time.monotonic()
    await journey(live, chromium, javascript=False)
    assert time.monotonic() - started < 150
