"""Managers' pages over the real gateway: members (invite, change role), API keys (created
and shown once, revoked) and the organisation's audit log."""

from __future__ import annotations

import re

from tests.web.staff.conftest import StaffBrowser
from tests.web.staff.test_staff_pages import error_summary, heading
from tests.web.staff.test_staff_xss import HOSTILE, assert_inert


async def test_manager_invites_a_member_and_the_form_checks_what_is_typed(
    staff_web: StaffBrowser,
) -> None:
    page = await staff_web.get("/organisation")
    assert page.status_code == 200
    assert heading(page) == "Members of Manchester City Council"
    assert "Olu Officer" in page.text
    bad = await staff_web.submit(
        "/organisation/members", {"email": f"not-an-email{HOSTILE}"}, form_page="/organisation"
    )
    assert bad.status_code == 303
    page = await staff_web.get("/organisation")
    assert error_summary(page) == [
        "Enter an email address in the correct format, like name@example.org",
        "Select the new member's role",
    ]
    assert_inert(page.text, where="members form")
    invited = await staff_web.submit(
        "/organisation/members",
        {"email": "new.officer@council.example.org", "role": "officer"},
        form_page="/organisation",
    )
    assert invited.status_code == 303
    page = await staff_web.get("/organisation")
    assert "was emailed to new.officer@council.example.org" in page.text


async def test_manager_creates_sees_once_and_revokes_an_api_key(staff_web: StaffBrowser) -> None:
    url = "/organisation/api-keys"
    bad = await staff_web.submit(url, {"name": ""})
    assert bad.status_code == 303
    page = await staff_web.get(url)
    assert error_summary(page) == [
        "Enter a name for the key, like the system that will use it",
        "Select what the key may do",
    ]
    created = await staff_web.submit(url, {"name": f"Portal {HOSTILE}", "scopes": "calls:read"})
    assert created.status_code == 303
    page = await staff_web.get(url)
    assert "Copy it now, it is not shown again" in page.text
    assert_inert(page.text, where="api keys")
    again = await staff_web.get(url)
    assert "Copy it now" not in again.text  # shown once
    key_id = re.search(r"/organisation/api-keys/([0-9a-f-]{36})/revoke", again.text)
    assert key_id is not None
    revoked = await staff_web.submit(f"{url}/{key_id.group(1)}/revoke", {}, form_page=url)
    assert revoked.status_code == 303
    page = await staff_web.get(url)
    assert "The key is revoked" in page.text

    audit = await staff_web.get("/organisation/audit")
    assert audit.status_code == 200
    assert heading(audit) == "Your organisation's audit log"
    assert "api_key" in audit.text
