"""Pages for everyone and the account forms, through the ASGI app over the real gateway."""

from __future__ import annotations

import uuid

import httpx
import pytest

from convene_web.main import create_app
from tests.web.conftest import PASSWORD, Browser, web_settings


def heading(page: httpx.Response) -> str:
    start = page.text.index("<h1")
    return page.text[page.text.index(">", start) + 1 : page.text.index("</h1>", start)].strip()


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/", "Share your expertise with your council"),
        ("/sign-in", "Sign in"),
        ("/create-account", "Create an account"),
        ("/forgot-password", "Reset your password"),
        ("/privacy", "Privacy notice"),
        ("/accessibility", "Accessibility statement"),
        ("/cookies", "Cookies"),
    ],
)
async def test_public_pages_render_with_their_heading(web: Browser, path: str, title: str) -> None:
    page = await web.get(path)
    assert page.status_code == 200
    assert heading(page) == title
    assert "Convene" in page.text
    # Not a GOV.UK service: no crown, no Crown copyright, no GDS Transport font.
    assert "govuk-logo" not in page.text
    assert "Crown copyright" not in page.text
    assert "/assets/fonts/" not in page.text


async def test_the_stylesheet_names_no_font_files_it_cannot_serve(web: Browser) -> None:
    # GOV.UK Frontend's GDS Transport @font-face rules are dropped when the assets are copied:
    # a browser falling back to that family would otherwise ask for four missing files.
    stylesheet = await web.get("/vendor/govuk/govuk-frontend.min.css")
    assert stylesheet.status_code == 200
    assert ".govuk-button" in stylesheet.text
    assert "@font-face" not in stylesheet.text
    assert "/assets/fonts/" not in stylesheet.text


async def test_every_page_has_a_strict_csp_and_a_session_cookie(web: Browser) -> None:
    page = await web.get("/")
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "<script>" not in page.text
    assert "<style" not in page.text
    assert ' style="' not in page.text
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # environment=test on http loopback
    assert page.headers["cache-control"] == "no-store"


async def test_cookies_are_secure_in_production(gateway: object) -> None:
    settings = web_settings(environment="production", internal_token="x" * 32)
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://w") as client,
    ):
        page = await client.get("/")
    assert "Secure" in page.headers["set-cookie"]


async def test_unknown_page_is_a_helpful_404(web: Browser) -> None:
    page = await web.get("/no-such-page")
    assert page.status_code == 404
    assert heading(page) == "Page not found"
    assert 'href="/"' in page.text


async def test_a_gateway_that_is_down_gives_the_service_unavailable_page() -> None:
    app = create_app(
        web_settings(gateway_url="http://127.0.0.1:9", gateway_connect_timeout_seconds=1)
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://w") as client,
    ):
        form = await client.get("/sign-in")
        token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        page = await client.post(
            "/sign-in", data={"csrf_token": token, "email": "a@b.example", "password": "x" * 12}
        )
    assert page.status_code == 503
    assert heading(page) == "Sorry, the service is unavailable"


async def test_a_form_without_the_csrf_token_is_refused(web: Browser) -> None:
    await web.get("/sign-in")
    page = await web.client.post("/sign-in", data={"email": "a@b.example", "password": "x"})
    assert page.status_code == 400
    page = await web.client.post(
        "/sign-in", data={"csrf_token": "forged", "email": "a@b.example", "password": "x"}
    )
    assert page.status_code == 400


@pytest.mark.parametrize(
    ("path", "data", "messages"),
    [
        (
            "/sign-in",
            {"email": "", "password": ""},
            ["Enter your email address", "Enter your password"],
        ),
        (
            "/sign-in",
            {"email": "nobody@example.org", "password": "wrong password!"},
            ["Enter a correct email address and password"],
        ),
        (
            "/create-account",
            {"email": "", "password": "short", "name": ""},
            [
                "Enter your email address",
                "Password must be 10 characters or more",
                "Enter your name",
            ],
        ),
        (
            "/create-account",
            {"email": "not-an-address@", "password": PASSWORD, "name": "Ada"},
            ["Enter an email address in the correct format, like name@example.com"],
        ),
        ("/forgot-password", {"email": ""}, ["Enter your email address, like name@example.com"]),
    ],
)
async def test_invalid_forms_redirect_back_to_an_error_summary(
    web: Browser, path: str, data: dict[str, str], messages: list[str]
) -> None:
    posted = await web.submit(path, data)
    assert posted.status_code == 303
    assert posted.headers["location"].startswith(path)
    page = await web.get(posted.headers["location"])
    assert page.status_code == 200
    assert "govuk-error-summary" in page.text
    assert "There is a problem" in page.text
    assert "<title>Error: " in page.text
    for message in messages:
        assert page.text.count(message) == 2  # in the summary and beside the field
    # Shown once: a reload no longer shows the errors.
    assert "govuk-error-summary" not in (await web.get(path)).text


async def test_a_taken_email_address_reads_like_a_new_one(web: Browser) -> None:
    """The gateway answers a taken address like a new one (its owner is emailed): the page
    never tells a stranger who has an account."""
    email = f"taken-{uuid.uuid4().hex[:6]}@example.org"
    await web.gateway.register(email=email)
    posted = await web.submit(
        "/create-account", {"email": email, "password": PASSWORD, "name": "A"}
    )
    assert posted.headers["location"] == "/create-account/check-email"
    page = await web.get(posted.headers["location"])
    assert "Check your email" in page.text
    assert PASSWORD not in page.text


async def test_create_account_then_sign_in_and_out_with_a_new_session_id(web: Browser) -> None:
    email = f"new-{uuid.uuid4().hex[:6]}@example.org"
    await web.get("/")
    before = web.client.cookies["convene_session"]
    await web.sign_up_and_in(email=email)
    after = web.client.cookies["convene_session"]
    assert after != before  # a new session id at sign-in
    profile = await web.get("/profile")
    assert profile.status_code == 200
    assert "Ada Citizen" in profile.text
    # The gateway's tokens never reach the browser.
    assert "Bearer" not in profile.text
    assert "access_token" not in profile.text
    signed_out = await web.submit("/sign-out", {})
    assert signed_out.headers["location"] == "/signed-out"
    again = await web.get("/profile")
    assert again.status_code == 303
    assert again.headers["location"] == "/sign-in?next=/profile"


async def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(web: Browser) -> None:
    email = f"next-{uuid.uuid4().hex[:6]}@example.org"
    await web.gateway.register(email=email)
    back = await web.submit(
        "/sign-in", {"email": email, "password": PASSWORD, "next": "/invitations"}
    )
    assert back.headers["location"] == "/invitations"
    await web.submit("/sign-out", {})
    off_site = await web.submit(
        "/sign-in", {"email": email, "password": PASSWORD, "next": "//evil.example/"}
    )
    assert off_site.headers["location"] == "/profile"


def test_go_buttons_are_real_buttons_in_get_forms() -> None:
    """A button that goes to another page is a <button> in a GET form (Space and Enter work
    with JavaScript off), never a link with role="button", and keeps the link's query."""
    from convene_web.templating import build_environment

    html = (
        build_environment()
        .from_string(
            '{{ goButton({"text": "Create from this one", "href": "/admin/configs/new?base=7",'
            ' "classes": "govuk-button--secondary"}) }}'
        )
        .render()
    )
    assert '<form method="get" action="/admin/configs/new" class="app-go-button">' in html
    assert '<input type="hidden" name="base" value="7">' in html
    assert '<button type="submit" class="govuk-button govuk-button--secondary"' in html
    assert "<a " not in html
    assert 'role="button"' not in html
