"""Every GET page of the web app, in Chromium, for each role (nobody, citizen, officer,
manager, admin with a second factor), once with JavaScript on and once off: axe-core at WCAG
2.2 AA with 0 violations, one h1, a title, a CSRF field in every POST form, Tab reaching the
main content's first control with a visible focus, and no link dressed as a button (only
GOV.UK's JavaScript makes such a link answer Space; goButton renders a real button instead).

The list of pages comes from the web app's route table: a GET route that no role visits and
that EXCLUDED does not name (with its reason) fails the test, so a new page is swept the day
it lands. Path parameters come from objects made in setup (PARAMETERS).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pyotp
import pytest
from playwright.async_api import Browser, Page

from convene_common.problems import flat_routes
from convene_web.config import WebSettings
from convene_web.main import create_app
from scripts.suite import run_module
from tests.web.browser.conftest import (
    STEP_TIMEOUT_MS,
    LiveSite,
    assert_accessible,
    no_script_checker,
)
from tests.web.browser.test_citizen_journey import PASSWORD, invite_through_the_api
from tests.web.staff.journeys import OFFICER_PASSWORD, add_officer

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.timeout(600)]

# GET routes that are not pages of the service, each with its reason.
EXCLUDED = {
    "/openapi.json": "the app's OpenAPI document (JSON for machines, not a page)",
    "/docs": "FastAPI's generated API explorer, not a page of the service",
    "/docs/oauth2-redirect": "FastAPI's generated API explorer, not a page of the service",
    "/redoc": "FastAPI's generated API explorer, not a page of the service",
    "/livez": "liveness probe (JSON)",
    "/readyz": "readiness probe (JSON)",
    "/metrics": "Prometheus metrics (text)",
}
TOKEN = "a" * 43  # a token-shaped query: the pages ask for a button press, never act on GET
CITIZEN_PARTS = [
    "skills", "roles", "badges", "affiliations",
    "place", "languages", "access-needs", "availability", "consent",
]  # fmt: skip
VALUE_PARTS = ["place", "languages", "access-needs", "availability", "consent"]
CALL_SECTIONS = [
    "what-you-need", "perspectives", "place", "languages",
    "access", "time", "conflicts", "confidentiality",
]  # fmt: skip


def page_routes() -> set[str]:
    """Every GET route of the web app, with its path parameters as {name}."""
    app = create_app(WebSettings(environment="test", gateway_url="http://gateway.invalid"))
    found = set()
    for route in flat_routes(app.router.routes):
        methods = getattr(route, "methods", None) or set()
        if "GET" in methods:
            found.add(getattr(route, "path_format", route.path))
    return found


def swept_by(route: str, paths: set[str]) -> bool:
    """Whether some swept address (query dropped) is an instance of the route."""
    pattern = re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(route)))
    return any(pattern.fullmatch(path.split("?")[0]) for path in paths)


@dataclass
class Role:
    name: str
    paths: list[str]
    sign_in: Any = None  # async (page) -> None
    downloads: list[str] = field(default_factory=list)  # not pages: JSON attachments
    swept: list[str] = field(default_factory=list)


async def sign_in(page: Page, base: str, email: str, password: str) -> None:
    await page.goto(f"{base}/sign-in")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_load_state()
    assert "/sign-in" not in page.url, f"{email} did not sign in: {page.url}"


# -- what every page must be -----------------------------------------------------------------
STRUCTURE = """() => {
    const forms = [...document.querySelectorAll("form")]
        .filter(f => (f.getAttribute("method") || "get").toLowerCase() === "post");
    return {
        h1: document.querySelectorAll("h1").length,
        title: document.title.trim(),
        formsWithoutCsrf: forms.filter(f => !f.querySelector("input[name=csrf_token][value]")
            || !f.querySelector("input[name=csrf_token]").value).map(f => f.action),
        linkButtons: [...document.querySelectorAll("a[role=button], a.govuk-button")]
            .map(a => a.textContent.trim()),
    };
}"""

FIRST_CONTROL = """() => {
    // Tab stops in document order (no positive tabindex on these pages): how many come
    // before the main content's first control, which is marked for FOCUS.
    const selector = "a[href], button, input:not([type=hidden]), select, textarea, summary, "
        + "[tabindex]";
    const stops = [...document.querySelectorAll(selector)].filter(e => {
        if (e.tabIndex < 0 || e.disabled) return false;
        const box = e.getBoundingClientRect();
        return box.width > 0 || box.height > 0;
    });
    const main = document.querySelector("main");
    const index = stops.findIndex(e => main.contains(e));
    if (index < 0) return null;
    stops[index].setAttribute("data-sweep-first", "");
    return {index, html: stops[index].outerHTML.slice(0, 120)};
}"""

FOCUS = """() => {
    const e = document.activeElement;
    if (!e || !e.hasAttribute("data-sweep-first")) return null;
    const s = getComputedStyle(e);
    const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0
        && s.outlineColor !== "rgba(0, 0, 0, 0)";
    return outline || s.boxShadow !== "none" || s.backgroundColor === "rgb(255, 221, 0)";
}"""


async def check_page(page: Page, url: str, *, checker: Page | None) -> list[str]:
    """Problems of the page at ``url`` (axe is asserted, the rest returned)."""
    problems = []
    response = await page.goto(url)
    assert response is not None
    if response.status != 200:
        return [f"{url}: status {response.status}"]
    if page.url != url:
        return [f"{url}: redirected to {page.url}"]
    shape = await page.evaluate(STRUCTURE)
    if shape["h1"] != 1:
        problems.append(f"{url}: {shape['h1']} h1 elements")
    if not shape["title"]:
        problems.append(f"{url}: no title")
    if shape["formsWithoutCsrf"]:
        problems.append(f"{url}: POST forms without a CSRF token: {shape['formsWithoutCsrf']}")
    if shape["linkButtons"]:
        problems.append(f"{url}: links dressed as buttons (Space needs JS): {shape['linkButtons']}")
    # axe first: a focused GOV.UK link drops its underline (its focus style), which axe's
    # link-in-text-block would then report.
    try:
        await assert_accessible(page, checker=checker)
    except AssertionError as violations:
        problems.append(f"{'no-js' if checker else 'js'} {violations}".split("\nassert")[0])
    first = await page.evaluate(FIRST_CONTROL)
    if first is not None:
        await page.locator("body").focus()
        for _ in range(first["index"] + 1):
            await page.keyboard.press("Tab")
        visible = await page.evaluate(FOCUS)
        if visible is None:
            problems.append(f"{url}: {first['index'] + 1} Tabs do not reach {first['html']}")
        elif not visible:
            problems.append(f"{url}: no visible focus on {first['html']}")
    if checker is not None and await page.locator("form.app-go-button button").count():
        # With JavaScript off, Space on a button that goes to another page goes there.
        action = await page.locator("form.app-go-button").first.get_attribute("action")
        await page.locator("form.app-go-button button").first.focus()
        await page.keyboard.press("Space")
        await page.wait_for_url(re.compile(re.escape(str(action)) + r"(\?.*)?$"))
    return problems


async def sweep(chromium: Browser, base: str, role: Role, ids: dict[str, str]) -> list[str]:
    problems: list[str] = []
    on = await chromium.new_context(viewport={"width": 1100, "height": 900})
    on.set_default_timeout(STEP_TIMEOUT_MS)
    page = await on.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        if role.sign_in is not None:
            await role.sign_in(page)
        off = await chromium.new_context(
            viewport={"width": 1100, "height": 900},
            java_script_enabled=False,
            storage_state=await on.storage_state(),
        )
        off.set_default_timeout(STEP_TIMEOUT_MS)
        checker_context, checker = await no_script_checker(chromium)
        try:
            quiet = await off.new_page()
            for path in [p.format(**ids) for p in role.paths]:
                url = base + path
                problems += await check_page(page, url, checker=None)
                problems += await check_page(quiet, url, checker=checker)
                role.swept.append(path)
                print(f"{time.monotonic():.1f} {role.name} {path}", file=sys.stderr)  # noqa: T201
            for path in role.downloads:
                answer = await page.request.get(base + path, max_redirects=0)
                disposition = answer.headers.get("content-disposition", "")
                if answer.status != 200 or not disposition.startswith("attachment"):
                    problems.append(f"{path}: {answer.status} {disposition!r}")
                json.loads(await answer.text())
                role.swept.append(path)
        finally:
            await off.close()
            await checker_context.close()
    finally:
        await on.close()
    return problems + [f"{role.name}: script error {e}" for e in errors]


# -- the objects the pages are about ---------------------------------------------------------
async def citizen_with_invitation(live: LiveSite) -> tuple[str, str, str]:
    """A citizen (verified, consenting, cycling evidence) invited to the bike-lane call, who
    accepted: (email, invitation id, call id)."""
    email = f"sweep-{uuid.uuid4().hex[:8]}@web.e2e.example"
    async with httpx.AsyncClient(base_url=live.gateway_url, timeout=30) as gw:
        created = await gw.post(
            "/v1/citizens", json={"email": email, "password": PASSWORD, "display_name": "Sue Ep"}
        )
        assert created.status_code == 201, created.text
        citizen_id = created.json()["id"]
        async with httpx.AsyncClient(
            base_url=live.suite.url("profiles"),
            headers={"X-Internal-Token": live.suite.internal_token},
        ) as profiles:
            verified = await profiles.put(
                f"/v1/citizens/{citizen_id}/email-verification", json={"verified": True}
            )
            assert verified.status_code == 204, verified.text
        token = await gw.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
        me = {"Authorization": f"Bearer {token.json()['access_token']}"}
        patched = await gw.patch(
            "/v1/me",
            headers=me,
            json={
                "place": {"authority_code": "E08000003", "postcode_area": "M1"},
                "languages": ["en"],
                "consent": {"matching": True, "contact": True},
            },
        )
        assert patched.status_code == 200, patched.text
        for label in ("Cycling infrastructure design", "Traffic engineering"):
            added = await gw.post(
                "/v1/me/skills", headers=me, json={"label": label, "level": "can_do"}
            )
            assert added.status_code == 201, added.text
        assert (
            await gw.post("/v1/me/roles", headers=me, json={"role": "cyclist"})
        ).status_code == 201
        invitation_id = await invite_through_the_api(live, email=email)
        detail = await gw.get(f"/v1/me/invitations/{invitation_id}", headers=me)
        call_id = detail.json()["call_id"]
        accepted = await gw.post(f"/v1/me/invitations/{invitation_id}/accept", headers=me, json={})
        assert accepted.status_code == 200, accepted.text
    return email, invitation_id, call_id


async def closed_call(live: LiveSite) -> str:
    async with httpx.AsyncClient(
        base_url=live.gateway_url, headers={"X-API-Key": live.api_key}, timeout=30
    ) as gw:
        posted = await gw.post(
            "/v1/calls",
            json={
                "title": "Winter gritting routes",
                "description": "Which pavements should be gritted first when it freezes?",
                "deadline": (datetime.now(UTC) + timedelta(days=10)).isoformat(),
                "panel_size": 2,
            },
        )
        assert posted.status_code == 201, posted.text
        call_id: str = posted.json()["id"]
        closed = await gw.post(
            f"/v1/calls/{call_id}/close", json={"outcome": "We grit the hospital routes first."}
        )
        assert closed.status_code == 200, closed.text
    return call_id


async def admin_with_second_factor(live: LiveSite) -> tuple[str, str, str]:
    email, password, secret = (
        "sweep-admin@web.e2e.example",
        "sweep-admin-password",
        pyotp.random_base32(),
    )
    run_module(
        "convene_gateway.bootstrap",
        "--dsn", live.suite.cluster.dsn(live.suite.database, role="convene_gateway"),
        "--admin-email", email, "--admin-password", password, "--admin-totp-secret", secret,
    )  # fmt: skip
    return email, password, secret


async def test_every_page_for_every_role(live: LiveSite, chromium: Browser) -> None:
    base = live.web_url
    email, invitation_id, call_id = await citizen_with_invitation(live)
    closed_id = await closed_call(live)
    officer = await add_officer(live)
    manager = await add_officer(live, role="manager")
    admin_email, admin_password, secret = await admin_with_second_factor(live)
    ids: dict[str, str] = {"call": call_id, "closed": closed_id}

    async def as_citizen(page: Page) -> None:
        await sign_in(page, base, email, PASSWORD)
        # A contribution drafted (not submitted), so its check-your-answers page shows.
        await page.goto(f"{base}/invitations/{invitation_id}/contribution")
        await page.locator("#comment").fill("Protected lanes need clear loading bays.")
        await page.get_by_role("button", name="Continue").click()
        await page.wait_for_url(re.compile(r"/contribution/check$"))

    async def as_officer(page: Page) -> None:
        await sign_in(page, base, officer, OFFICER_PASSWORD)
        # A complete draft, so the check-your-answers page shows.
        await page.goto(f"{base}/calls/new/what-you-need")
        await page.get_by_label("Title").fill("Street trees on Wilmslow Road")
        await page.get_by_label("What you need and why").fill("Which streets need shade first?")
        await page.get_by_role("button", name="Save and continue").click()
        await page.goto(f"{base}/calls/new/time")
        await page.get_by_label("Day").fill("20")
        await page.get_by_label("Month").fill("3")
        await page.get_by_label("Year").fill(str(datetime.now(UTC).year + 1))
        await page.get_by_label("How many people you want on the panel").fill("3")
        await page.get_by_role("button", name="Save and continue").click()
        await page.wait_for_url(re.compile(r"/calls/new/check$"))

    async def as_manager(page: Page) -> None:
        await sign_in(page, base, manager, OFFICER_PASSWORD)

    async def as_admin(page: Page) -> None:
        await page.goto(f"{base}/sign-in")
        await page.get_by_label("Email address").fill(admin_email)
        await page.get_by_label("Password", exact=True).fill(admin_password)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(re.compile(r"/sign-in/security-code$"))
        await assert_accessible(page)  # the second-factor page, reached only this way
        admin.swept.append("/sign-in/security-code")
        await page.get_by_label("Security code").fill(pyotp.TOTP(secret).now())
        await page.get_by_role("button", name="Continue").click()
        await page.wait_for_load_state()
        assert "/sign-in" not in page.url, page.url
        # Two configurations (for the diff) and an evaluation (for its page).
        await page.goto(f"{base}/admin/configs/new")
        await page.get_by_label("What this changes and why").fill("Mean of the top 5 items")
        await page.get_by_label("top_k", exact=True).fill("5")
        await page.get_by_role("button", name="Create the configuration").click()
        await page.wait_for_url(re.compile(r"/admin/configs/\d+$"))
        ids["config"] = page.url.rsplit("/", 1)[1]
        await page.goto(f"{base}/admin/configs")
        listed = await page.locator("a[href^='/admin/configs/']").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        ids["other"] = next(
            h.rsplit("/", 1)[1]
            for h in listed
            if re.fullmatch(r"/admin/configs/\d+", h) and h.rsplit("/", 1)[1] != ids["config"]
        )
        started = await page.request.post(
            f"{base}/admin/evaluations",
            form={
                "csrf_token": await page.locator("input[name=csrf_token]").first.get_attribute(
                    "value"
                )
                or "",
                "config_id": ids["config"],
                "kind": "history",
            },
            max_redirects=0,
        )
        assert started.status == 303, await started.text()
        ids["evaluation"] = started.headers["location"].rsplit("/", 1)[1]
        # An import of past responses (one good row, one bad), for its progress page.
        await page.goto(f"{base}/admin/imports")
        rows = [
            {
                "source": "Sweep Council", "external_id": "r-1",
                "respondent_email": "nobody-yet@web.e2e.example",
                "responded_at": "2024-05-01T10:00:00Z", "question": "Where should we grit?",
                "response_text": "The hospital routes, then the school run.", "rating": 4,
            },
            {"source": "Sweep Council", "external_id": "r-2"},
        ]  # fmt: skip
        await page.set_input_files(
            "#file",
            files=[
                {
                    "name": "responses.jsonl",
                    "mimeType": "application/x-ndjson",
                    "buffer": "\n".join(json.dumps(row) for row in rows).encode(),
                }
            ],
        )
        await page.get_by_label("JSON Lines (one JSON object a line)").check()
        await page.get_by_role("button", name="Upload and import").click()
        await page.wait_for_url(re.compile(r"/admin/imports/[0-9a-f-]{36}$"))
        ids["import"] = page.url.rsplit("/", 1)[1]
        organisations = await page.request.get(f"{base}/admin/organisations")
        found = re.search(r"/admin/organisations/([0-9a-f-]{36})/keys", await organisations.text())
        assert found, "no organisation listed"
        ids["organisation"] = found.group(1)

    anonymous = Role(
        "nobody",
        [
            "/", "/privacy", "/accessibility", "/cookies", "/sign-in", "/create-account",
            "/create-account/check-email", f"/verify-email?token={TOKEN}",
            "/verify-email/confirmed", "/verify-email/failed", "/forgot-password",
            "/forgot-password/sent", "/forgot-password/unavailable",
            f"/reset-password?token={TOKEN}", "/reset-password/failed", "/signed-out",
            "/account/deleted",
        ],
    )  # fmt: skip
    citizen = Role(
        "citizen",
        [
            "/", "/profile", "/profile/evidence",
            *(f"/profile/{part}" for part in CITIZEN_PARTS),
            *(f"/profile/{part}/change" for part in VALUE_PARTS),
            "/invitations", f"/invitations/{invitation_id}",
            f"/invitations/{invitation_id}/contribution",
            f"/invitations/{invitation_id}/contribution/check", "/past-calls", "/account",
            "/account/imports", "/account/answers", "/account/delete", "/sign-out",
        ],
        as_citizen,
        downloads=["/account/download"],
    )  # fmt: skip
    officer_role = Role(
        "officer",
        [
            "/", "/calls", "/calls/new", "/calls/new/check",
            *(f"/calls/new/{slug}" for slug in CALL_SECTIONS),
            f"/calls/{call_id}/posted", f"/calls/{call_id}", f"/calls/{call_id}/panel",
            f"/calls/{call_id}/invite", f"/calls/{call_id}/answers", f"/calls/{call_id}/close",
            f"/calls/{closed_id}/closed", "/figures",
        ],
        as_officer,
    )  # fmt: skip
    manager_role = Role(
        "manager",
        ["/organisation", "/organisation/api-keys", "/organisation/webhook", "/organisation/audit"],
        as_manager,
    )
    admin = Role("admin", [], as_admin)
    admin_paths = [
        "/admin/configs", "/admin/configs/new", "/admin/configs/{config}",
        "/admin/configs/diff?a={other}&b={config}",
        "/admin/configs/{config}/preview?call_id={call}",
        "/admin/evaluations/{evaluation}", "/admin/exposure", "/admin/organisations",
        "/admin/organisations/{organisation}/keys", "/admin/index", "/admin/dead-letters",
        "/admin/audit", "/admin/imports", "/admin/imports/{import}",
    ]  # fmt: skip

    started = time.monotonic()
    # The admin's ids exist only once signed in: sweep fills them in after sign_in.
    admin.paths = admin_paths
    roles = (anonymous, citizen, officer_role, manager_role, admin)
    # The roles side by side in one browser (their own contexts): the pages wait on the
    # services far more than on the browser.
    found = await asyncio.gather(*(sweep(chromium, base, role, ids) for role in roles))
    problems = [problem for some in found for problem in some]
    elapsed = time.monotonic() - started

    swept = {path for role in roles for path in role.swept}
    unswept = sorted(r for r in page_routes() - set(EXCLUDED) if not swept_by(r, swept))
    print(  # noqa: T201  (the report names what was swept)
        json.dumps(
            {"seconds": round(elapsed, 1), **{r.name: list(r.swept) for r in roles}}, indent=1
        )
    )
    assert problems == [], "\n".join(problems)
    assert unswept == [], f"GET routes neither swept nor excluded: {unswept}"
    # A bound against a hang, not a benchmark: on a quiet 2-core machine the sweep takes far
    # less (the report gives measured figures with the load average).
    assert elapsed < 480, f"the sweep took {elapsed:.0f}s"
