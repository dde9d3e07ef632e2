"""The officer's journey in a real browser (Debian's chromium through Playwright) against the
real services as processes: sign in, post the bike-lane call as a task list, review the
panel, swap one member (with the keyboard), invite with a message preview, see an acceptance,
rate and close. axe at WCAG 2.2 AA on every page visited, error states included."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.web.browser.conftest import assert_accessible as check_accessible
from tests.web.browser.conftest import (  # noqa: F401  (fixtures)
    chromium,
    live,
    new_page,
    no_script_checker,
    screenshot_path,
)
from tests.web.staff.journeys import (
    OFFICER_PASSWORD,
    accept_an_invitation,
    add_officer,
    press,
    press_tab_until,
    seed_citizens,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
async def test_officer_posts_reviews_swaps_invites_rates_and_closes(
    live: Any,  # noqa: F811
    chromium: Any,  # noqa: F811
    javascript: bool,
) -> None:
    await seed_citizens(live)
    email = await add_officer(live)
    context, page, watch = await new_page(chromium, javascript=javascript)
    # With JavaScript off axe runs on the same HTML in a second page whose scripts are blocked.
    checker_context, checker = (None, None) if javascript else await no_script_checker(chromium)
    visited: list[str] = []

    async def assert_accessible(page: Any, visited: list[str]) -> None:
        await check_accessible(page, visited, checker=checker)

    try:
        await page.goto(f"{live.web_url}/sign-in")
        await page.get_by_label("Email address").fill(email)
        await page.get_by_label("Password", exact=True).fill(OFFICER_PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(re.compile(r"/calls$"))
        await assert_accessible(page, visited)

        await press(page, "Post a call")  # keyboard only
        await page.wait_for_url(re.compile(r"/calls/new\??$"))
        await assert_accessible(page, visited)

        # An error state first: nothing typed.
        await page.get_by_role("link", name="What you need").click()
        await page.get_by_role("button", name="Save and continue").click()
        await page.locator(".govuk-error-summary").wait_for()
        await assert_accessible(page, visited)
        await page.get_by_label("Title").fill("Protected bike lanes on Oxford Road")
        await page.get_by_label("What you need and why").fill(
            "We are planning segregated cycle lanes on Oxford Road. Tell us how you cycle "
            "or drive the route, and what would make it safer."
        )
        await page.get_by_label("Skills you want (optional)").fill(
            "Cycling in city traffic\nUrban planning"
        )
        await page.get_by_role("button", name="Save and continue").click()
        await page.wait_for_url(re.compile(r"/calls/new$"))

        await page.get_by_role("link", name="Perspectives you want").click()
        await page.locator("#role-1").fill("cyclist")
        await page.locator("#min-1").fill("2")
        await page.locator("#max-1").fill("3")
        await page.locator("#role-2").fill("cab-driver")
        await page.locator("#min-2").fill("1")
        await assert_accessible(page, visited)
        await page.get_by_role("button", name="Save and continue").click()

        await page.get_by_role("link", name="Place and radius").click()
        await page.get_by_label("Area code (optional)").fill("E08000003")
        await page.get_by_role("button", name="Save and continue").click()

        await page.get_by_role("link", name="Time asked, deadline and panel size").click()
        await page.get_by_label("Time asked of each person, in hours (optional)").fill("3")
        await page.get_by_label("Day").fill("20")
        await page.get_by_label("Month").fill("3")
        await page.get_by_label("Year").fill(str(datetime.now(UTC).year + 1))
        await page.get_by_label("How many people you want on the panel").fill("4")
        await assert_accessible(page, visited)
        await page.get_by_role("button", name="Save and continue").click()

        await page.wait_for_url(re.compile(r"/calls/new/check\??$"))
        await assert_accessible(page, visited)
        await press(page, "Post the call")  # keyboard only
        await page.wait_for_url(re.compile(r"/posted$"))
        await assert_accessible(page, visited)
        call_id = page.url.split("/")[-2]

        await press(page, "Review the proposed panel", key="Space")  # keyboard only (a button)
        await page.wait_for_url(re.compile(r"/panel\??$"))
        refs = await page.locator(".govuk-summary-card__title").all_inner_texts()
        assert len(refs) == 4, refs
        await assert_accessible(page, visited)
        if javascript:
            await page.screenshot(
                path=str(screenshot_path("screenshot-officer-panel.png")), full_page=True
            )

        # Swap the first member with the keyboard only.
        await page.locator("body").focus()
        await press_tab_until(page, f"Swap {refs[0]} for the next best on the shortlist")
        await page.keyboard.press("Enter")
        await page.get_by_text(f"{refs[0]} was swapped for").wait_for()
        after = await page.locator(".govuk-summary-card__title").all_inner_texts()
        assert refs[0] not in after
        await assert_accessible(page, visited)

        await page.get_by_role("button", name="Continue to invitations").click()
        await page.get_by_label("Your message to them (optional)").fill(
            "Thank you for helping us make Oxford Road safer."
        )
        await page.get_by_role("button", name="Preview the invitation").click()
        await page.get_by_role("heading", name="Preview: what each person receives").wait_for()
        await assert_accessible(page, visited)
        await press(page, "Send invitations")  # keyboard only
        await page.wait_for_url(re.compile(r"/answers$"))
        await assert_accessible(page, visited)

        ref = await accept_an_invitation(live, call_id)
        await page.reload()
        assert await page.locator('a[href^="mailto:"]').count() == 1
        assert await page.locator("strong.govuk-tag", has_text="Accepted").count() == 1
        await page.get_by_role("button", name=f"Save rating for {ref}").click()
        await page.locator(".govuk-error-summary").wait_for()
        await assert_accessible(page, visited)
        await page.get_by_role("radio", name="5").check()
        await page.get_by_label(f"Comment for {ref} (optional)").fill("Clear and useful")
        await page.get_by_role("button", name=f"Save rating for {ref}").click()
        await page.get_by_text(f"Your rating of {ref}").wait_for()
        await assert_accessible(page, visited)

        await page.get_by_role("link", name="Close or cancel").click()
        await page.get_by_role("button", name="Confirm").click()
        await page.locator(".govuk-error-summary").wait_for()
        await assert_accessible(page, visited)
        await page.get_by_label("Close the call and tell contributors the outcome").check()
        await page.get_by_label(
            "What was done with their input, or why the call is cancelled"
        ).fill("We are building the protected lanes you asked for, starting in May.")
        await press(page, "Confirm", key="Space")  # keyboard only
        await page.wait_for_url(re.compile(r"/closed$"))
        await page.get_by_role("heading", name="Call closed").wait_for()
        await assert_accessible(page, visited)

        await page.goto(f"{live.web_url}/figures")
        assert await page.locator("svg.app-chart").count() == 1
        await assert_accessible(page, visited)
        assert watch.problems == []
        assert len(visited) >= 15
    finally:
        await context.close()
        if checker_context is not None:
            await checker_context.close()
