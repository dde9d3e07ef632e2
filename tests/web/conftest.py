"""Web tests: the web app in-process over the REAL gateway app (itself over the real profiles
app) through ASGI transports, on a fresh database per test. No mock stands in for a service.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from convene_web.config import WebSettings
from convene_web.main import create_app
from tests.gateway.conftest import (  # noqa: F401  (fixtures)
    PASSWORD,
    Gateway,
    gateway,
    profiles_app,
)

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Browser:
    """An httpx client on the web app that keeps its cookie and reads CSRF tokens from pages."""

    client: httpx.AsyncClient
    app: FastAPI
    gateway: Gateway

    async def get(self, path: str) -> httpx.Response:
        return await self.client.get(path)

    async def csrf(self, path: str) -> str:
        page = await self.client.get(path)
        assert page.status_code == 200, (path, page.status_code)
        match = CSRF.search(page.text)
        assert match, f"no CSRF field on {path}"
        return match.group(1)

    async def submit(
        self, path: str, data: dict[str, str], *, form_page: str | None = None
    ) -> httpx.Response:
        """POSTs a form the way a browser does: with the token from the page that shows it."""
        token = await self.csrf(form_page or path)
        return await self.client.post(path, data={"csrf_token": token, **data})

    async def sign_up_and_in(
        self, *, email: str, password: str = PASSWORD, name: str = "Ada Citizen"
    ) -> None:
        created = await self.submit(
            "/create-account", {"email": email, "password": password, "name": name}
        )
        assert created.status_code == 303, created.text
        assert created.headers["location"] == "/create-account/check-email"
        signed = await self.submit("/sign-in", {"email": email, "password": password})
        assert signed.status_code == 303, signed.text


def web_settings(**overrides: object) -> WebSettings:
    values: dict[str, object] = {"environment": "test", "gateway_url": "http://gateway.test"}
    values.update(overrides)
    return WebSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def web(gateway: Gateway) -> AsyncIterator[Browser]:  # noqa: F811
    app = create_app(web_settings(), gateway_transport=httpx.ASGITransport(app=gateway.app))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://web.test"
        ) as client,
    ):
        yield Browser(client=client, app=app, gateway=gateway)
