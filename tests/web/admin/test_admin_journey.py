"""The admin's journey in a real browser against the real services as processes: create a
matching configuration from the active one (an error state first), preview it on a real call
beside the active one, activate it, roll it back, and read the exposure page. axe at WCAG 2.2
AA on every page visited."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.web.browser.conftest import (  # noqa: F401  (fixtures)
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    chromium,
    live,
    new_page,
    no_script_checker,
    screenshot_path,
)
from tests.web.browser.conftest import assert_accessible as check_accessible
from tests.web.staff.journeys import press, seed_citizens

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]


async def posted_call(live: Any) -> str:  # noqa: F811
    """The bike-lane call, posted, matched and invited by the council's system (API key)."""
    headers = {"X-API-Key": live.api_key}
    async with httpx.AsyncClient(base_url=live.gateway_url, headers=headers, timeout=60) as gw:
        created = await gw.post(
            "/v1/calls",
            json={
                "title": "Protected bike lanes on Oxford Road",
                "description": "Tell us how you cycle or drive Oxford Road.",
                "perspectives": [{"role": "cyclist", "min": 2, "max": 3}],
                "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
                "panel_size": 3,
            },
        )
        assert created.status_code == 201, created.text
        call_id: str = created.json()["id"]
        assert (await gw.post(f"/v1/calls/{call_id}/match")).status_code == 200
        assert (await gw.post(f"/v1/calls/{call_id}/invitations")).status_code == 201
    return call_id


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
async def test_admin_creates_previews_activates_and_rolls_back(
    live: Any,  # noqa: F811
    chromium: Any,  # noqa: F811
    javascript: bool,
) -> None:
    await seed_citizens(live)
    call_id = await posted_call(live)
    context, page, watch = await new_page(chromium, javascript=javascript)
    # With JavaScript off axe runs on the same HTML in a second page whose scripts are blocked.
    checker_context, checker = (None, None) if javascript else await no_script_checker(chromium)
    visited: list[str] = []

    async def assert_accessible(page: Any, visited: list[str]) -> None:
        await check_accessible(page, visited, checker=checker)

    try:
        await page.goto(f"{live.web_url}/sign-in")
        await page.get_by_label("Email address").fill(ADMIN_EMAIL)
        await page.get_by_label("Password", exact=True).fill(ADMIN_PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_load_state()
        await page.goto(f"{live.web_url}/admin/configs")
        await page.get_by_role("heading", name="Matching configurations").wait_for()
        await assert_accessible(page, visited)

        await press(page, "Create a configuration from the active one")  # keyboard only
        await page.get_by_role("heading", name="Create a configuration").wait_for()
        await assert_accessible(page, visited)
        await page.get_by_label("top_k", exact=True).fill("lots")
        await page.get_by_role("button", name="Create the configuration").click()
        await page.locator(".govuk-error-summary").wait_for()
        await assert_accessible(page, visited)
        await page.get_by_label("What this changes and why").fill("Mean of the top 5 items")
        await page.get_by_label("top_k", exact=True).fill("5")
        await press(page, "Create the configuration", key="Space")  # keyboard only
        await page.wait_for_url(re.compile(r"/admin/configs/\d+$"))
        new_id = page.url.rsplit("/", 1)[1]
        await assert_accessible(page, visited)

        await page.get_by_label("Call reference").fill(call_id)
        await press(page, "Preview the panel")  # keyboard only
        await page.get_by_role("heading", name=f"Preview of configuration {new_id}").wait_for()
        await assert_accessible(page, visited)
        await page.go_back()

        await press(page, f"Activate configuration {new_id}")  # keyboard only
        await page.get_by_text(f"Configuration {new_id} is now active.").wait_for()
        await assert_accessible(page, visited)
        await press(page, "Roll back to the previous configuration", key="Space")
        await page.get_by_text("is active again").wait_for()
        await assert_accessible(page, visited)

        await page.goto(f"{live.web_url}/admin/exposure")
        await page.get_by_role("heading", name="Exposure: who receives the invitations").wait_for()
        assert await page.locator("svg.app-chart").count() == 1
        assert await page.locator("table").count() >= 1
        await assert_accessible(page, visited)
        if javascript:
            await page.screenshot(
                path=str(screenshot_path("screenshot-admin-exposure.png")), full_page=True
            )
        assert watch.problems == []
    finally:
        await context.close()
        if checker_context is not None:
            await checker_context.close()
