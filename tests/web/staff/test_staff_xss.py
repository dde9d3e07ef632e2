"""Every text a staff member can type is rendered inert on every page that shows it: the
call's fields (check answers, the call, the list, the panel, the invitation preview), the
invitation message, a perspective (in the quota table), the webhook address."""

from __future__ import annotations

from tests.web.staff.conftest import StaffBrowser, seed_bike_lane_citizens
from tests.web.staff.test_staff_pages import BIKE_LANE, error_summary, heading

SCRIPT = "<script>alert('x')</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
HOSTILE = f"{SCRIPT}{ATTRIBUTE}"


def assert_inert(text: str, *, where: str) -> None:
    assert SCRIPT not in text, where
    assert ATTRIBUTE not in text, where
    assert "<img src=x" not in text, where
    assert "&lt;script&gt;" in text, f"{where}: the text is not shown at all"


HOSTILE_FIELDS = {
    "what-you-need": {
        "title": f"Bike lanes {HOSTILE}",
        "description": f"We are planning cycle lanes on Oxford Road. {HOSTILE}",
        "questions": f"Where do you feel unsafe? {HOSTILE}",
        "skills": f"cycling in city traffic {HOSTILE}",
    },
    "access": {"access_offered": f"step-free venue {HOSTILE}"},
    "conflicts": {"conflicts": f"Acme {HOSTILE}"},
}


async def test_hostile_call_text_is_inert_everywhere_it_is_shown(staff_web: StaffBrowser) -> None:
    assert staff_web.calls is not None
    await seed_bike_lane_citizens(staff_web.calls)
    for slug, fields in BIKE_LANE.items():
        typed = {**fields, **HOSTILE_FIELDS.get(slug, {})}
        assert (await staff_web.submit(f"/calls/new/{slug}", typed)).status_code == 303
    for slug in HOSTILE_FIELDS:
        # The form shown again keeps what was typed, escaped inside value="" / <textarea>.
        assert_inert((await staff_web.get(f"/calls/new/{slug}")).text, where=slug)
    assert_inert((await staff_web.get("/calls/new/check")).text, where="check answers")
    posted = await staff_web.submit("/calls/new/check", {})
    assert posted.status_code == 303, posted.text
    call_id = posted.headers["location"].split("/")[2]
    for path in (
        f"/calls/{call_id}/posted",
        f"/calls/{call_id}",
        "/calls",
        f"/calls/{call_id}/panel",
    ):
        page = await staff_web.get(path)
        assert page.status_code == 200, path
        assert_inert(page.text, where=path)

    invite = f"/calls/{call_id}/invite"
    await staff_web.submit(f"{invite}/preview", {"message": HOSTILE}, form_page=invite)
    assert_inert((await staff_web.get(invite)).text, where="invitation preview")
    close = f"/calls/{call_id}/close"
    await staff_web.submit(close, {"how": "cancel", "outcome": "x" * 2_001})
    page = await staff_web.get(close)
    assert error_summary(page) == ["Outcome must be 2,000 characters or fewer"]
    cancelled = await staff_web.submit(close, {"how": "cancel", "outcome": f"Budget {HOSTILE}"})
    assert cancelled.status_code == 303
    done = await staff_web.get(f"/calls/{call_id}/closed")
    assert heading(done) == "Call cancelled"
    assert "pending invitation" in done.text
    assert "Cancelled calls (1)" in (await staff_web.get("/calls")).text


async def test_a_hostile_perspective_is_inert_on_the_call_and_its_quota_table(
    staff_web: StaffBrowser,
) -> None:
    perspectives = {"role-1": HOSTILE, "min-1": "1", "max-1": "2"}
    for slug, fields in BIKE_LANE.items():
        typed = perspectives if slug == "perspectives" else fields
        assert (await staff_web.submit(f"/calls/new/{slug}", typed)).status_code == 303
    assert_inert((await staff_web.get("/calls/new/perspectives")).text, where="perspectives")
    assert_inert((await staff_web.get("/calls/new/check")).text, where="check answers")
    posted = await staff_web.submit("/calls/new/check", {})
    # Nobody holds that role: the call is accepted and the quota reported short (unmet).
    assert posted.status_code == 303, posted.text
    call_id = posted.headers["location"].split("/")[2]
    for path in (f"/calls/{call_id}", f"/calls/{call_id}/panel"):
        page = await staff_web.get(path)
        assert page.status_code == 200, path
        assert_inert(page.text, where=path)
    panel = await staff_web.get(f"/calls/{call_id}/panel")
    assert "1 short:" in panel.text


async def test_a_hostile_webhook_address_is_refused_and_inert(staff_web: StaffBrowser) -> None:
    await staff_web.submit("/organisation/webhook", {"url": f"javascript:{HOSTILE}"})
    page = await staff_web.get("/organisation/webhook")
    assert error_summary(page) == ["Enter a web address starting with https://"]
    assert_inert(page.text, where="webhook")
