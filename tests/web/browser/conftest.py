"""Browser tests: Debian's chromium driven by Playwright for Python against the real services
as processes (profiles, matcher, gateway, notification worker, SMTP sink, web) on loopback.

`playwright install` cannot download anything here: chromium comes from Debian (.ci/run
installs it) and is launched by path. axe-core comes from npm (services/web/node_modules).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import async_playwright

from convene_common.embedded_pg import EmbeddedPostgres, free_port
from scripts.suite import REPO_ROOT, Suite, run_module

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = REPO_ROOT / "services" / "web" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SCREENSHOTS = REPO_ROOT / "docs"
REF_SECRET = secrets.token_urlsafe(24)
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@web.e2e.example", "admin-password-for-web-e2e"
# Every wait in a journey is bounded: a page that never comes fails the test, never hangs it.
STEP_TIMEOUT_MS = 15_000

pytestmark = pytest.mark.browser


@dataclass
class LiveSite:
    suite: Suite
    web_url: str
    mail_dir: Path
    api_key: str
    admin_token: str = ""
    ref_secret: str = REF_SECRET

    @property
    def gateway_url(self) -> str:
        return self.suite.url("gateway")

    def mails_to(self, address: str) -> list[Message]:
        found = []
        for path in sorted(self.mail_dir.glob("*.eml")):
            message = message_from_bytes(path.read_bytes())
            if address.lower() in str(message["To"]).lower():
                found.append(message)
        return found


@pytest.fixture(scope="module")
async def live(
    pg_cluster: EmbeddedPostgres, template_database: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveSite]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium")
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` in services/web (make test does)")
    database = f"web_{uuid.uuid4().hex[:12]}"
    await pg_cluster.create_database_from_template(database, template_database)
    run_dir = Path(tmp_path_factory.mktemp("web-suite"))
    mail_dir = run_dir / "mail"
    smtp_port, web_port = free_port(), free_port()
    running = Suite(
        cluster=pg_cluster,
        database=database,
        ports={name: free_port() for name in ("profiles", "matcher", "gateway")},
        run_dir=run_dir,
        internal_token=secrets.token_urlsafe(16),
        jwt_secret=secrets.token_urlsafe(32),
        environment="test",
        extra_env={
            "matcher": {
                "CONVENE_MATCHER_FEED_POLL_SECONDS": "0.2",
                "CONVENE_MATCHER_REF_SECRET": REF_SECRET,
                "CONVENE_MATCHER_SMTP_HOST": "127.0.0.1",
                "CONVENE_MATCHER_SMTP_PORT": str(smtp_port),
                "CONVENE_MATCHER_NOTIFY_POLL_SECONDS": "0.1",
            },
            # Account emails link to the pages under test.
            "gateway": {"CONVENE_GATEWAY_WEB_BASE_URL": f"http://127.0.0.1:{web_port}"},
        },
    )
    try:
        running.start_process(
            "mail-sink",
            [
                sys.executable,
                "scripts/mail_sink.py",
                "--port",
                str(smtp_port),
                "--dir",
                str(mail_dir),
            ],
            env=os.environ,
            port=smtp_port,
        )
        running.start_all()
        running.start_web(port=web_port)
        running.wait_all_ready(timeout=180)
        running.wait_ready("web", timeout=60)
        running.start_notification_worker(smtp_port=smtp_port)
        bootstrap = json.loads(
            run_module(
                "convene_gateway.bootstrap",
                "--dsn", running.cluster.dsn(database, role="convene_gateway"),
                "--admin-email", ADMIN_EMAIL, "--admin-password", ADMIN_PASSWORD,
                "--organisation", "Manchester City Council", "--print-api-key",
            )
        )  # fmt: skip
        yield LiveSite(
            suite=running,
            web_url=f"http://127.0.0.1:{web_port}",
            mail_dir=mail_dir,
            api_key=bootstrap["api_key"],
        )
    finally:
        running.stop_all()
        await pg_cluster.drop_database(database)


@pytest.fixture(scope="module")
async def chromium() -> AsyncIterator[Any]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000
        )
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class PageWatch:
    """What a page must never do: break the CSP, log a script error."""

    problems: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        def on_console(message: Any) -> None:
            text = str(message.text)
            # The location names the resource that failed, which the text alone does not.
            where = (message.location or {}).get("url", "")
            if message.type == "error" and "favicon" not in text + where:
                self.problems.append(f"console: {text} ({where})")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))


async def new_page(chromium: Any, *, javascript: bool) -> tuple[Any, Any, PageWatch]:
    context = await chromium.new_context(
        java_script_enabled=javascript, viewport={"width": 1100, "height": 900}
    )
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = await context.new_page()
    watch = PageWatch()
    watch.attach(page)
    return context, page, watch


_AXE_SOURCE: str | None = None


async def _axe(page: Any) -> list[dict[str, Any]]:
    global _AXE_SOURCE
    if _AXE_SOURCE is None:
        _AXE_SOURCE = AXE.read_text()
    await page.evaluate(_AXE_SOURCE)
    result: list[dict[str, Any]] = await page.evaluate(
        """async (tags) => {
            // resultTypes: only violations are wanted, so passes are not detailed (faster).
            const r = await axe.run(document, {runOnly: {type: "tag", values: tags},
                                               resultTypes: ["violations"]});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
        }""",
        AXE_TAGS,
    )
    return result


async def assert_accessible(
    page: Any, visited: list[str] | None = None, *, checker: Any | None = None
) -> None:
    """axe-core at WCAG 2.2 AA on the page as it is now: 0 violations.

    Injected through the DevTools protocol (page.evaluate), which the page's CSP does not
    govern. A page with JavaScript off cannot run axe (its timers never fire): `checker`, a
    page with JavaScript on whose own scripts are blocked, is handed the very same HTML at
    the same address (so the CSS loads) and axe runs there.
    """
    if checker is None:
        violations = await _axe(page)
    else:
        html = await page.content()
        url = page.url

        async def serve(route: Any) -> None:
            await route.fulfill(status=200, content_type="text/html", body=html)

        await checker.route(url, serve)
        try:
            await checker.goto(url)
        finally:
            await checker.unroute(url, serve)
        violations = await _axe(checker)
    if visited is not None:
        visited.append(page.url)
    assert violations == [], f"axe violations on {page.url}: {json.dumps(violations, indent=1)}"


async def no_script_checker(chromium: Any) -> tuple[Any, Any]:
    """The page assert_accessible uses for pages seen with JavaScript off."""
    context = await chromium.new_context(viewport={"width": 1100, "height": 900})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    await context.route("**/*.js", lambda route: route.abort())
    return context, await context.new_page()


async def wait_for(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool],
    *,
    timeout: float,
    interval: float = 0.2,
) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        outcome = check()
        if not isinstance(outcome, bool):
            outcome = await outcome
        if outcome:
            return time.monotonic() - started
        await asyncio.sleep(interval)
    raise TimeoutError(f"not done after {timeout}s")


def screenshot_path(name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS / name
