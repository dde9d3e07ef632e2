"""Staff page tests: the web app over the REAL gateway, profiles and matcher apps (ASGI), an
organisation with a signed-in officer, and citizens to route calls to."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from convene_web.main import create_app
from tests.conftest import FreshDatabase
from tests.gateway.conftest import (  # noqa: F401  (fixtures)
    PASSWORD,
    CallsGateway,
    calls_gateway,
    matcher_app,
    sentence_model,
)
from tests.web.conftest import Browser, web_settings

CYCLING = ["cycling in city traffic every day", "protected bike lane design"]
DRIVING = ["driving a taxi across the city centre", "night shifts on the ring road"]


async def add_staff_member(
    database: FreshDatabase,
    gateway: CallsGateway,
    *,
    organisation_id: str,
    role: str = "officer",
    email: str | None = None,
) -> str:
    """A staff account, a member of the organisation (the accounts issue's tables; its
    invitation flow is the accounts engineer's and not needed to sign in)."""
    email = email or f"{role}-{uuid.uuid4().hex[:8]}@council.example.org"
    password_hash = await gateway.app.state.password_hasher.hash(PASSWORD)
    connection = await asyncpg.connect(database.dsn("gateway"))
    try:
        account_id = uuid.uuid4()
        await connection.execute(
            """INSERT INTO gateway.account (id, kind, email, password_hash, provisioned_at,
                                    email_verified_at, display_name)
               VALUES ($1, 'staff', $2, $3, now(), now(), 'Olu Officer')""",
            account_id,
            email,
            password_hash,
        )
        await connection.execute(
            "INSERT INTO gateway.organisation_member (account_id, organisation_id, role) "
            "VALUES ($1, $2, $3)",
            account_id,
            uuid.UUID(organisation_id),
            role,
        )
    finally:
        await connection.close()
    return email


@dataclass
class StaffBrowser(Browser):
    organisation_id: str = ""
    calls: CallsGateway | None = None

    email: str = ""

    async def sign_in(self, email: str, password: str = PASSWORD) -> None:
        signed = await self.submit("/sign-in", {"email": email, "password": password})
        assert signed.status_code == 303, signed.text
        self.email = email

    async def bearer(self) -> dict[str, str]:
        """The same person's own token, straight from the gateway (API checks in tests)."""
        assert self.calls is not None
        return await self.calls.login(self.email)


@pytest.fixture
async def staff_web(
    database: FreshDatabase,
    calls_gateway: CallsGateway,  # noqa: F811
) -> AsyncIterator[StaffBrowser]:
    organisation_id, _ = await calls_gateway.public_body(name="Manchester City Council")
    email = await add_staff_member(
        database, calls_gateway, organisation_id=organisation_id, role="manager"
    )
    app = create_app(web_settings(), gateway_transport=httpx.ASGITransport(app=calls_gateway.app))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://web.test"
        ) as client,
    ):
        browser = StaffBrowser(
            client=client,
            app=app,
            gateway=calls_gateway,
            organisation_id=organisation_id,
            calls=calls_gateway,
        )
        await browser.sign_in(email)
        yield browser


async def seed_bike_lane_citizens(gateway: CallsGateway) -> None:
    for _ in range(4):
        await gateway.seed_citizen(skills=CYCLING, roles=["cyclist"])
    for _ in range(3):
        await gateway.seed_citizen(skills=DRIVING, roles=["cab-driver"])
    await gateway.sync()
