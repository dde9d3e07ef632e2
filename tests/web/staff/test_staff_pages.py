"""Council staff pages through the ASGI app over the real gateway, profiles and matcher:
posting a call as a task list, the panel, swapping, inviting, answers, rating and closing."""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.gateway.conftest import INTERNAL_TOKEN
from tests.web.staff.conftest import StaffBrowser, seed_bike_lane_citizens

NEXT_YEAR = str(datetime.now(UTC).year + 1)


def heading(page: httpx.Response) -> str:
    start = page.text.index("<h1")
    inner = page.text[page.text.index(">", start) + 1 : page.text.index("</h1>", start)]
    return html.unescape(re.sub(r"<[^>]+>", "", inner).strip())


def error_summary(page: httpx.Response) -> list[str]:
    assert "govuk-error-summary" in page.text, "no error summary"
    block = page.text[page.text.index("govuk-error-summary__list") :]
    block = block[: block.index("</ul>")]
    return [
        html.unescape(re.sub(r"<[^>]+>", "", item).strip())
        for item in re.findall(r"<li>(.*?)</li>", block, re.S)
    ]


BIKE_LANE: dict[str, dict[str, str]] = {
    "what-you-need": {
        "title": "Protected bike lanes on Oxford Road",
        "description": "We are planning segregated cycle lanes on Oxford Road. Tell us how "
        "you cycle or drive the route, and what would make it safer.",
        "questions": "Where do you feel unsafe?\nWhat would make you cycle more?",
        "skills": "cycling in city traffic\nurban planning",
    },
    "perspectives": {
        "role-1": "cyclist",
        "min-1": "2",
        "max-1": "3",
        "role-2": "cab-driver",
        "min-2": "1",
    },
    "place": {"authority_code": "E08000003", "lat": "53.4808", "lon": "-2.2426", "radius_km": "20"},
    "languages": {"languages": "en"},
    "access": {"access_offered": "step-free venue\nonline session"},
    "time": {
        "hours": "3",
        "deadline-day": "20",
        "deadline-month": "3",
        "deadline-year": NEXT_YEAR,
        "panel_size": "4",
    },
    "conflicts": {"conflicts": "Acme Cycle Lanes Ltd"},
    "confidentiality": {"confidentiality": "public"},
}


async def post_bike_lane_call(web: StaffBrowser, **changes: dict[str, str]) -> str:
    for slug, fields in BIKE_LANE.items():
        saved = await web.submit(f"/calls/new/{slug}", {**fields, **changes.get(slug, {})})
        assert saved.status_code == 303, (slug, saved.text)
    check = await web.get("/calls/new/check")
    assert check.status_code == 200
    assert heading(check) == "Check your answers before posting your call"
    assert "cyclist: 2 to 3" in check.text
    assert "cab-driver: at least 1" in check.text  # no maximum given
    posted = await web.submit("/calls/new/check", {})
    assert posted.status_code == 303, posted.text
    location: str = posted.headers["location"]
    assert location.endswith("/posted")
    return location.split("/")[2]


async def test_calls_page_lists_the_organisations_calls_by_state(staff_web: StaffBrowser) -> None:
    page = await staff_web.get("/calls")
    assert page.status_code == 200
    assert heading(page) == "Your organisation's calls"
    assert "Post a call" in page.text


async def test_signed_out_visitors_are_sent_to_sign_in(staff_web: StaffBrowser) -> None:
    staff_web.client.cookies.clear()
    page = await staff_web.get("/calls")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/sign-in")


async def test_task_list_shows_every_section_and_what_is_left(staff_web: StaffBrowser) -> None:
    page = await staff_web.get("/calls/new")
    assert heading(page) == "Post a call"
    for title in (
        "What you need",
        "Perspectives you want",
        "Place and radius",
        "Languages",
        "Access you offer",
        "Time asked, deadline and panel size",
        "Conflicts of interest",
        "Confidentiality",
    ):
        assert title in page.text
    assert "Not yet started" in page.text
    # Check answers is refused until the required sections are done.
    assert (await staff_web.get("/calls/new/check")).headers["location"] == "/calls/new"


INVALID_FORMS: list[tuple[str, dict[str, str], list[str]]] = [
    (
        "what-you-need",
        {"title": "", "description": ""},
        ["Enter a title for your call", "Enter what you need and why"],
    ),
    (
        "perspectives",
        {"role-1": "cyclist", "min-1": "3", "max-1": "1", "min-2": "2"},
        ["Maximum must be the same as or more than the minimum", "Enter the perspective for row 2"],
    ),
    ("perspectives", {"role-1": "cyclist", "min-1": "two"}, ["Minimum must be a whole number"]),
    (
        "place",
        {"authority_code": "Manchester", "radius_km": "5"},
        [
            "Enter an area code like E08000003 (a letter and 8 digits), or leave it blank",
            "Enter the latitude and longitude of the centre of the radius",
        ],
    ),
    ("place", {"lat": "123", "lon": "-2"}, ["Latitude must be between -90 and 90"]),
    (
        "languages",
        {"languages": "english"},
        ["Enter two-letter language codes separated by commas, like en, cy"],
    ),
    (
        "time",
        {
            "hours": "-1",
            "deadline-day": "31",
            "deadline-month": "2",
            "deadline-year": NEXT_YEAR,
            "panel_size": "",
        },
        [
            "Hours must be more than 0 and at most 1,000",
            "Deadline must be a real date",
            "Enter how many people you want on the panel",
        ],
    ),
    (
        "time",
        {"deadline-day": "1", "deadline-month": "1", "deadline-year": "2020", "panel_size": "9999"},
        ["Deadline must be in the future", "Panel size must be between 1 and 500"],
    ),
    ("confidentiality", {}, ["Select how confidential the call is"]),
]


async def test_every_invalid_section_shows_the_error_summary(staff_web: StaffBrowser) -> None:
    for slug, fields, messages in INVALID_FORMS:
        response = await staff_web.submit(f"/calls/new/{slug}", fields)
        assert response.status_code == 303
        assert response.headers["location"] == f"/calls/new/{slug}"
        page = await staff_web.get(f"/calls/new/{slug}")
        assert page.status_code == 200
        assert "<title>Error: " in page.text, slug
        assert error_summary(page) == messages, slug
        for message in messages:
            assert f'<span class="govuk-visually-hidden">Error:</span> {message}' in page.text


async def test_a_post_without_the_csrf_token_is_refused(staff_web: StaffBrowser) -> None:
    response = await staff_web.client.post("/calls/new/what-you-need", data={"title": "x"})
    assert response.status_code == 400


async def test_officer_posts_the_bike_lane_call_reviews_swaps_invites_rates_and_closes(
    staff_web: StaffBrowser,
) -> None:
    assert staff_web.calls is not None
    await seed_bike_lane_citizens(staff_web.calls)
    call_id = await post_bike_lane_call(staff_web)

    posted = await staff_web.get(f"/calls/{call_id}/posted")
    assert heading(posted) == "Call posted"
    listing = await staff_web.get("/calls")
    assert "Open calls (1)" in listing.text
    assert "Protected bike lanes on Oxford Road" in listing.text

    panel = await staff_web.get(f"/calls/{call_id}/panel")
    assert panel.status_code == 200
    assert heading(panel) == "Proposed panel"
    refs = re.findall(r'id="member-(c_[0-9a-f]{20})"', panel.text)
    assert len(refs) == 4
    quota = panel.text[panel.text.index('id="quota-table"') :]
    quota = quota[: quota.index("</table>")]
    assert "cyclist" in quota
    assert "cab-driver" in quota
    assert "2 to 3" in quota
    assert "Why proposed" in panel.text
    assert "similarity" in panel.text

    # Another officer's session (a fresh sign-in) sees the same stored panel.
    stored = await staff_web.calls.client.get(
        f"/v1/calls/{call_id}/match", headers=await staff_web.bearer()
    )
    assert stored.status_code == 200, stored.text
    assert sorted(m["ref"] for m in stored.json()["panel"]) == sorted(refs)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=staff_web.app), base_url="http://web.test"
    ) as other_client:
        other = StaffBrowser(client=other_client, app=staff_web.app, gateway=staff_web.gateway)
        await other.sign_in(staff_web.email)
        again = await other.get(f"/calls/{call_id}/panel")
        assert sorted(re.findall(r'id="member-(c_[0-9a-f]{20})"', again.text)) == sorted(refs)

    swapped = await staff_web.submit(
        f"/calls/{call_id}/panel/swap", {"ref": refs[0]}, form_page=f"/calls/{call_id}/panel"
    )
    assert swapped.status_code == 303
    after = await staff_web.get(f"/calls/{call_id}/panel")
    new_refs = re.findall(r'id="member-(c_[0-9a-f]{20})"', after.text)
    assert refs[0] not in new_refs
    assert len(new_refs) == 4
    assert f"{refs[0]} was swapped for" in after.text

    invite_url = f"/calls/{call_id}/invite"
    previewed = await staff_web.submit(
        f"{invite_url}/preview",
        {"message": "Thank you for helping Oxford Road."},
        form_page=invite_url,
    )
    assert previewed.status_code == 303
    preview = await staff_web.get(invite_url)
    assert "Preview: what each person receives" in preview.text
    assert "Thank you for helping Oxford Road." in preview.text
    sent = await staff_web.submit(
        invite_url, {"message": "Thank you for helping Oxford Road."}, form_page=invite_url
    )
    assert sent.status_code == 303
    assert sent.headers["location"].endswith("/answers")
    answers = await staff_web.get(f"/calls/{call_id}/answers")
    assert heading(answers) == "Answers and ratings"
    assert "4 invitations sent." in answers.text
    assert answers.text.count("Waiting") == 4

    # A citizen accepts (through the matcher, as the invitation page would) ...
    invitation = await accept_one(staff_web, call_id)
    answers = await staff_web.get(f"/calls/{call_id}/answers")
    assert "Accepted" in answers.text
    assert "mailto:" in answers.text
    rating_url = f"/calls/{call_id}/answers/{invitation['ref']}/rating"
    bad = await staff_web.submit(rating_url, {"rating": "9"}, form_page=f"/calls/{call_id}/answers")
    assert bad.status_code == 303
    page = await staff_web.get(f"/calls/{call_id}/answers")
    assert error_summary(page) == [f"Select a rating from 1 to 5 for {invitation['ref']}"]
    rated = await staff_web.submit(
        rating_url, {"rating": "5", "comment": "Very useful"}, form_page=f"/calls/{call_id}/answers"
    )
    assert rated.status_code == 303
    page = await staff_web.get(f"/calls/{call_id}/answers")
    assert "Your rating of" in page.text

    close_url = f"/calls/{call_id}/close"
    invalid = await staff_web.submit(close_url, {"outcome": ""})
    assert invalid.status_code == 303
    page = await staff_web.get(close_url)
    assert error_summary(page) == [
        "Select whether you are closing the call with an outcome or cancelling it",
        "Tell contributors what was done with their input",
    ]
    closed = await staff_web.submit(
        close_url, {"how": "close", "outcome": "We are building the lanes you asked for."}
    )
    assert closed.status_code == 303
    assert closed.headers["location"].endswith("/closed")
    done = await staff_web.get(f"/calls/{call_id}/closed")
    assert heading(done) == "Call closed"
    assert "1 contributor told the outcome" in done.text
    listing = await staff_web.get("/calls")
    assert "Closed calls (1)" in listing.text

    figures = await staff_web.get("/figures")
    assert figures.status_code == 200
    assert "<svg" in figures.text
    assert "<table" in figures.text
    assert "Acceptance rate" in figures.text


async def accept_one(
    web: StaffBrowser, call_id: str, *, comment: str = "I cycle Oxford Road every day."
) -> dict[str, Any]:
    """One invited citizen accepts and submits a contribution (``comment``), through the
    real matcher: the answers page must then show the contact details and the contribution."""
    assert web.calls is not None
    matcher = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web.calls.matcher_app), base_url="http://m"
    )
    async with matcher:
        pool = web.calls.matcher_app.state.pool
        async with pool.acquire() as connection:
            row = await connection.fetchrow(
                "SELECT id, citizen_id, ref FROM invitation WHERE call_id = $1 LIMIT 1",
                uuid.UUID(call_id),
            )
        assert row is not None
        consent = await web.calls.profiles.patch(
            f"/v1/citizens/{row['citizen_id']}",
            json={"consent": {"matching": True, "contact": True}},
        )
        assert consent.status_code == 200, consent.text
        accepted = await matcher.post(
            f"/v1/citizens/{row['citizen_id']}/invitations/{row['id']}/accept",
            headers={"X-Internal-Token": INTERNAL_TOKEN},
        )
        assert accepted.status_code == 200, accepted.text
        submitted = await matcher.post(
            f"/v1/citizens/{row['citizen_id']}/invitations/{row['id']}/contribution",
            headers={"X-Internal-Token": INTERNAL_TOKEN},
            json={"comment": comment},
        )
        assert submitted.status_code == 200, submitted.text
        return {"ref": row["ref"], "id": str(row["id"]), "citizen_id": str(row["citizen_id"])}
