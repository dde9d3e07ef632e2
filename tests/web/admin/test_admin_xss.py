"""What an admin types (a configuration's note and settings) renders inert on every page
that shows it."""

from __future__ import annotations

from tests.web.staff.conftest import StaffBrowser
from tests.web.staff.test_staff_xss import HOSTILE, assert_inert


async def test_a_hostile_note_and_setting_are_inert(admin_web: StaffBrowser) -> None:
    form = await admin_web.get("/admin/configs/new")
    assert form.status_code == 200
    base = form.text.split('name="base" value="')[1].split('"')[0]
    # A hostile value in a numeric setting: refused, and shown back inert.
    refused = await admin_web.submit(
        "/admin/configs/new",
        {"base": base, "note": HOSTILE, "setting.top_k": HOSTILE},
        form_page="/admin/configs/new",
    )
    assert refused.status_code == 303
    assert_inert((await admin_web.get(refused.headers["location"])).text, where="new config")
    created = await admin_web.submit(
        "/admin/configs/new",
        {"base": base, "note": f"Deeper {HOSTILE}", "setting.top_k": "4"},
        form_page="/admin/configs/new",
    )
    assert created.status_code == 303, created.text
    for path in (created.headers["location"], "/admin/configs"):
        page = await admin_web.get(path)
        assert page.status_code == 200, path
        assert_inert(page.text, where=path)
