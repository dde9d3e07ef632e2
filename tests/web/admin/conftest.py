"""Admin page tests: the web app over the REAL gateway, profiles and matcher apps (ASGI),
with the bootstrap admin signed in through the sign-in page."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from convene_web.main import create_app
from tests.gateway.conftest import (  # noqa: F401  (fixtures)
    CallsGateway,
    calls_gateway,
    matcher_app,
    sentence_model,
)
from tests.web.conftest import web_settings
from tests.web.staff.conftest import StaffBrowser


@pytest.fixture
async def admin_web(calls_gateway: CallsGateway) -> AsyncIterator[StaffBrowser]:  # noqa: F811
    app = create_app(web_settings(), gateway_transport=httpx.ASGITransport(app=calls_gateway.app))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://web.test"
        ) as client,
    ):
        browser = StaffBrowser(client=client, app=app, gateway=calls_gateway, calls=calls_gateway)
        await browser.sign_in("admin@example.org", "admin-password-123")
        yield browser
