"""Admin pages through the ASGI app over the real gateway, profiles and matcher: matching
configurations (create from another, diff, preview on a real call, activate, roll back),
evaluations, exposure, organisations and keys, index status, dead letters."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tests.web.staff.conftest import StaffBrowser, seed_bike_lane_citizens
from tests.web.staff.test_staff_pages import error_summary, heading


async def bike_lane_call(web: StaffBrowser) -> str:
    """A call posted and matched through the API, as a council's system would."""
    assert web.calls is not None
    await seed_bike_lane_citizens(web.calls)
    _, key = await web.calls.public_body(name="Manchester City Council")
    created = await web.calls.client.post(
        "/v1/calls",
        headers=key,
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
    matched = await web.calls.client.post(f"/v1/calls/{call_id}/match", headers=key)
    assert matched.status_code == 200, matched.text
    return call_id


def config_ids(page_text: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/admin/configs/(\d+)"', page_text)]


async def test_admin_creates_previews_activates_and_rolls_back_a_configuration(
    admin_web: StaffBrowser,
) -> None:
    listing = await admin_web.get("/admin/configs")
    assert listing.status_code == 200
    assert heading(listing) == "Matching configurations"
    before = config_ids(listing.text)
    assert before, "a fresh matcher has its default configuration"
    active_id = before[0]

    form = await admin_web.get("/admin/configs/new")
    assert heading(form) == "Create a configuration"
    assert 'name="setting.top_k"' in form.text
    # Invalid: no note, a number that is not one.
    bad = await admin_web.submit(
        "/admin/configs/new",
        {"base": str(active_id), "note": "", "setting.top_k": "many"},
        form_page="/admin/configs/new",
    )
    assert bad.status_code == 303
    page = await admin_web.get(bad.headers["location"])
    assert error_summary(page) == [
        "top_k must be a whole number",
        "Say what this configuration changes and why",
    ]
    # The matcher's own check (top_k is at most 50) comes back in the summary too.
    refused = await admin_web.submit(
        "/admin/configs/new",
        {"base": str(active_id), "note": "Too deep", "setting.top_k": "500"},
        form_page="/admin/configs/new",
    )
    page = await admin_web.get(refused.headers["location"])
    assert "The matcher refused these settings" in error_summary(page)[0]

    created = await admin_web.submit(
        "/admin/configs/new",
        {"base": str(active_id), "note": "Mean of the top 5 items", "setting.top_k": "5"},
        form_page="/admin/configs/new",
    )
    assert created.status_code == 303, created.text
    new_id = int(created.headers["location"].rsplit("/", 1)[1])
    config = await admin_web.get(f"/admin/configs/{new_id}")
    assert heading(config) == f"Configuration {new_id}"
    assert "Mean of the top 5 items" in config.text
    assert "Not active" in config.text

    diff = await admin_web.get(f"/admin/configs/diff?a={active_id}&b={new_id}")
    assert diff.status_code == 200
    assert "1 settings differ" in diff.text
    assert "top_k" in diff.text
    missing = await admin_web.get("/admin/configs/diff?a=&b=")
    assert missing.status_code == 303
    page = await admin_web.get("/admin/configs")
    assert error_summary(page) == [
        "Select the first configuration",
        "Select the second configuration",
    ]

    call_id = await bike_lane_call(admin_web)
    unknown = await admin_web.get(f"/admin/configs/{new_id}/preview?call_id=not-a-call")
    assert unknown.status_code == 303
    page = await admin_web.get(f"/admin/configs/{new_id}")
    assert len(error_summary(page)) == 1
    preview = await admin_web.get(f"/admin/configs/{new_id}/preview?call_id={call_id}")
    assert preview.status_code == 200, preview.text
    assert heading(preview) == f"Preview of configuration {new_id}"
    assert f"Panel under the active configuration {active_id}" in preview.text
    assert "Perspectives on each panel" in preview.text

    activated = await admin_web.submit(
        f"/admin/configs/{new_id}/activate", {}, form_page=f"/admin/configs/{new_id}"
    )
    assert activated.status_code == 303
    listing = await admin_web.get("/admin/configs")
    assert f"Configuration {new_id} is now active." in listing.text
    assert "History of activations" in listing.text

    rolled = await admin_web.submit("/admin/configs/rollback", {}, form_page="/admin/configs")
    assert rolled.status_code == 303
    listing = await admin_web.get("/admin/configs")
    assert f"configuration {active_id} is active again" in listing.text


async def test_exposure_page_has_the_lorenz_curve_and_its_table(admin_web: StaffBrowser) -> None:
    page = await admin_web.get("/admin/exposure")
    assert page.status_code == 200
    assert heading(page) == "Exposure: who receives the invitations"
    assert "<svg" in page.text
    assert "app-chart__lorenz" in page.text
    assert "app-chart__equality" in page.text
    assert "<table" in page.text
    assert "Gini coefficient" in page.text
    assert "Share of invitations to the top 5% of citizens" in page.text
    assert "Citizens who reached their monthly invitation cap" in page.text


async def test_evaluation_starts_and_shows_its_progress(admin_web: StaffBrowser) -> None:
    listing = await admin_web.get("/admin/configs")
    active_id = config_ids(listing.text)[0]
    missing = await admin_web.submit(
        "/admin/evaluations", {"config_id": str(active_id)}, form_page=f"/admin/configs/{active_id}"
    )
    assert missing.status_code == 303
    page = await admin_web.get(f"/admin/configs/{active_id}")
    assert error_summary(page) == ["Select what to evaluate the configuration on"]
    started = await admin_web.submit(
        "/admin/evaluations",
        {"config_id": str(active_id), "kind": "history"},
        form_page=f"/admin/configs/{active_id}",
    )
    assert started.status_code == 303, started.text
    job = await admin_web.get(started.headers["location"])
    assert job.status_code == 200
    assert heading(job) == f"Evaluation of configuration {active_id}"
    assert "<progress" in job.text


async def test_organisations_keys_index_and_dead_letters(admin_web: StaffBrowser) -> None:
    assert admin_web.calls is not None
    organisation_id, _ = await admin_web.calls.public_body(name="Salford City Council")
    organisations = await admin_web.get("/admin/organisations")
    assert heading(organisations) == "Organisations and keys"
    assert "Salford City Council" in organisations.text
    keys = await admin_web.get(f"/admin/organisations/{organisation_id}/keys")
    assert heading(keys) == "API keys"
    assert "calls:read" in keys.text
    index = await admin_web.get("/admin/index")
    assert heading(index) == "Index and change feed"
    dead = await admin_web.get("/admin/dead-letters")
    assert heading(dead) == "Dead letters"
    assert "Every notification has been delivered." in dead.text


async def test_staff_and_citizens_cannot_open_admin_pages(admin_web: StaffBrowser) -> None:
    admin_web.client.cookies.clear()
    page = await admin_web.get("/admin/exposure")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/sign-in")
