"""The citizen's profile pages through the ASGI app over the real gateway and profiles apps:
the task list, each part's check-your-answers, the error summary of every invalid form, XSS."""

from __future__ import annotations

import html
import json
import uuid
from html.parser import HTMLParser

import pytest

from tests.web.conftest import Browser

XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "' onmouseover='alert(3)' x='",
]


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.handlers: list[str] = []
        self.inline_scripts = 0
        self.images: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        self.handlers += [f"{tag}.{name}" for name in names if name.startswith("on")]
        if tag == "script":
            self._in_script = True
            if "src" not in names:
                self.inline_scripts += 1
        if tag == "img":
            self.images.append(str(names.get("src")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_inert(text: str, *, where: str) -> None:
    """No event-handler attribute, no inline script, no injected image: nothing runs."""
    page = _Page()
    page.feed(text)
    assert page.handlers == [], (where, page.handlers)
    assert page.inline_scripts == 0, where
    assert page.images == [], (where, page.images)


def visible_text(text: str) -> str:
    page = _Page()
    page.feed(text)
    return "".join(page.text)


@pytest.fixture
async def citizen(web: Browser) -> Browser:
    await web.sign_up_and_in(email=f"cit-{uuid.uuid4().hex[:8]}@example.org", name="Ada Citizen")
    return web


async def follow(web: Browser, path: str, data: dict[str, str]) -> str:
    posted = await web.submit(
        path,
        data,
        form_page=path.removesuffix("/change") + "/change" if path.endswith("/change") else path,
    )
    assert posted.status_code == 303, posted.text
    page = await web.get(posted.headers["location"])
    assert page.status_code == 200
    return page.text


async def test_the_profile_is_a_task_list_of_every_part(citizen: Browser) -> None:
    page = await citizen.get("/profile")
    assert page.status_code == 200
    assert "govuk-task-list" in page.text
    for title in (
        "Skills and how well you know them",
        "Lived experience",
        "Badges",
        "Affiliations and interests",
        "Where you live",
        "Languages",
        "Access needs",
        "Availability and pauses",
        "Consent",
    ):
        assert title in page.text
    # Consent (matching on) and availability have profiles' defaults; nothing else yet.
    assert "You have completed 2 of 9 parts" in page.text


async def test_add_and_remove_a_skill(citizen: Browser) -> None:
    text = await follow(
        citizen, "/profile/skills", {"label": "Cycle lane design", "level": "can_do"}
    )
    assert "Cycle lane design" in text
    assert "I can do it" in text
    assert "Skills: saved." in text
    skill_id = text.split("/profile/skills/")[1].split("/remove")[0]
    removed = await citizen.submit(
        f"/profile/skills/{skill_id}/remove", {}, form_page="/profile/skills"
    )
    assert removed.status_code == 303
    assert "Cycle lane design" not in (await citizen.get("/profile/skills")).text
    assert "You have completed 2 of 9" in (await citizen.get("/profile")).text


async def test_value_parts_go_through_check_your_answers(citizen: Browser) -> None:
    text = await follow(
        citizen, "/profile/place/change", {"postcode_area": "m1", "authority_code": "e08000003"}
    )
    assert "Check your answers" in text
    assert "M1" in text
    text = await follow(
        citizen, "/profile/languages/change", {"languages": "en", "other_languages": "de"}
    )
    assert "English, de" in text
    text = await follow(
        citizen,
        "/profile/availability/change",
        {"max_invitations_per_month": "3", "hours_per_month": "6"},
    )
    assert "Hours a month" in text
    assert ">6<" in text.replace(" ", "").replace("\n", "")
    posted = await citizen.submit(
        "/profile/availability/pauses",
        {
            "start-day": "1",
            "start-month": "3",
            "start-year": "2031",
            "end-day": "5",
            "end-month": "3",
            "end-year": "2031",
        },
        form_page="/profile/availability",
    )
    assert posted.status_code == 303
    page = (await citizen.get("/profile/availability")).text
    assert "1 March 2031 to 5 March 2031" in page
    text = await follow(citizen, "/profile/consent/change", {"consent": "matching"})
    assert "Matching" in text
    me = await citizen.gateway.client.get("/v1/me", headers=await _headers(citizen))
    body = me.json()
    assert body["consent"] == {
        "matching": True,
        "contact": False,
        "contributions_as_evidence": False,  # not ticked
    }
    assert body["place"]["postcode_area"] == "M1"
    assert body["place"]["authority_code"] == "E08000003"
    assert body["languages"] == ["en", "de"]
    assert body["availability"]["max_invitations_per_month"] == 3
    assert len(body["availability"]["unavailable"]) == 1


async def _headers(web: Browser) -> dict[str, str]:
    from convene_web.sessions import SCOPE_KEY  # noqa: F401  (the session is server-side)

    store = web.app.state.sessions
    session = store.get(web.client.cookies["convene_session"])
    assert session is not None
    assert session.access_token
    return {"Authorization": f"Bearer {session.access_token}"}


@pytest.mark.parametrize(
    ("path", "data", "messages"),
    [
        (
            "/profile/skills",
            {"label": "", "level": ""},
            ["Enter a skill", "Select how well you know it"],
        ),
        (
            "/profile/skills",
            {"label": "x" * 201, "level": "can_do"},
            ["Enter 200 characters or fewer"],
        ),
        ("/profile/roles", {"role": ""}, ["Enter a role you have lived"]),
        (
            "/profile/affiliations",
            {"organisation": "", "kind": ""},
            ["Enter the organisation or interest", "Select how you are linked to it"],
        ),
        (
            "/profile/place/change",
            {"postcode_area": "not a postcode", "authority_code": "X1"},
            [
                "Enter the first part of a postcode, like M1 or LS6",
                "Enter a local authority code in the correct format, like E08000003",
            ],
        ),
        (
            "/profile/languages/change",
            {"other_languages": "english"},
            ["Enter other languages as two-letter codes, like de, it"],
        ),
        ("/profile/languages/change", {}, ["Select at least one language you can take part in"]),
        (
            "/profile/availability/change",
            {"max_invitations_per_month": "", "hours_per_month": "many"},
            [
                "Enter how many invitations a month you may get",
                "Hours a month must be a whole number",
            ],
        ),
        (
            "/profile/access-needs/change",
            {"access_needs": "y" * 301},
            ["Each access need must be 300 characters or fewer"],
        ),
        (
            "/profile/availability/pauses",
            {"start-day": "31", "start-month": "2", "start-year": "2031"},
            ["The date your pause starts must be a real date", "Enter the date your pause ends"],
        ),
        ("/account/delete", {}, ["Select yes to confirm you want to delete your account"]),
    ],
)
async def test_each_invalid_citizen_form_shows_the_error_summary(
    citizen: Browser, path: str, data: dict[str, str], messages: list[str]
) -> None:
    form_page = "/profile/availability" if path.endswith("/pauses") else path
    posted = await citizen.submit(path, data, form_page=form_page)
    assert posted.status_code == 303, posted.text
    page = await citizen.get(posted.headers["location"])
    assert page.status_code == 200
    assert "There is a problem" in page.text
    for message in messages:
        assert html.escape(message, quote=False) in page.text or message in page.text
        assert page.text.count(html.escape(message)) + page.text.count(message) >= 2


async def test_a_badge_that_is_not_a_badge_is_an_error(citizen: Browser) -> None:
    token = await citizen.csrf("/profile/badges")
    posted = await citizen.client.post(
        "/profile/badges",
        data={"csrf_token": token},
        files={"badge": ("badge.txt", b"hello", "text/plain")},
    )
    page = await citizen.get(posted.headers["location"])
    assert "There is a problem" in page.text
    assert "The badge file must be an Open Badge" in page.text
    posted = await citizen.client.post("/profile/badges", data={"csrf_token": token})
    assert "Select a badge file" in (await citizen.get(posted.headers["location"])).text


@pytest.mark.parametrize("payload", XSS)
async def test_user_text_renders_inert_on_every_page_that_shows_it(
    web: Browser, payload: str
) -> None:
    await web.sign_up_and_in(email=f"xss-{uuid.uuid4().hex[:8]}@example.org", name=payload)
    await web.submit("/profile/skills", {"label": payload, "level": "can_do"})
    await web.submit("/profile/roles", {"role": payload})
    await web.submit("/profile/affiliations", {"organisation": payload, "kind": "other"})
    await web.submit("/profile/access-needs/change", {"access_needs": payload})
    pages = {
        path: (await web.get(path)).text
        for path in (
            "/profile",
            "/profile/skills",
            "/profile/roles",
            "/profile/affiliations",
            "/profile/access-needs",
            "/profile/access-needs/change",
            "/account",
        )
    }
    for path, text in pages.items():
        assert payload not in text, f"{path} shows {payload!r} unescaped"
        assert_inert(text, where=path)
    # Shown, as text: escaped, not dropped.
    # (/profile/evidence reads the matcher, which this fixture has not: its user text is
    # checked in test_invitation_pages.py.)
    for path in ("/profile", "/profile/skills", "/profile/roles"):
        assert payload in visible_text(pages[path]), path
    exported = await web.get("/account/download")
    assert exported.headers["content-disposition"].startswith("attachment")
    assert exported.headers["content-type"].startswith("application/json")
    assert json.loads(exported.text)["profile"]


async def test_the_account_page_leads_to_past_responses_and_answer_uploads(
    citizen: Browser,
) -> None:
    # Without these links a citizen could reach the import and upload pages only from an
    # email or by typing their address.
    account = await citizen.get("/account")
    assert 'href="/account/imports"' in account.text
    assert 'href="/account/answers"' in account.text
    for path in ("/account/imports", "/account/answers"):
        assert (await citizen.get(path)).status_code == 200, path


async def test_delete_my_account_with_confirmation(citizen: Browser) -> None:
    page = await citizen.get("/account/delete")
    assert "It cannot be undone" in page.text
    posted = await citizen.submit("/account/delete", {"confirm": "yes"})
    assert posted.headers["location"] == "/account/deleted"
    assert "Your account has been deleted" in (await citizen.get("/account/deleted")).text
    assert (await citizen.get("/profile")).status_code == 303
