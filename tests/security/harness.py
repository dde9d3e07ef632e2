"""The whole suite in one process, served on loopback for the security tests.

The gateway runs with the REAL profiles app and, once the gateway accepts a matcher
transport, the REAL matcher app, each handed in over ASGI, all in one event loop on a
background thread behind uvicorn. Tests talk to it over HTTP like any client (schemathesis
runs as a separate process against the same port). Every log line the suite writes is kept,
formatted by the production JSON formatter, so tests can read exactly what would be logged.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import socket
import threading
import uuid
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn
from fastapi import FastAPI

from convene_common.embedded_pg import EmbeddedPostgres
from convene_common.logging import JsonFormatter
from convene_gateway.bootstrap import bootstrap
from convene_gateway.config import GatewaySettings
from convene_gateway.main import create_app
from convene_gateway.ratelimit.config import Limit, RateLimits
from convene_profiles.config import ProfilesSettings
from convene_profiles.main import create_app as create_profiles_app

INTERNAL_TOKEN = "internal-token-for-security-tests-0123456789"
JWT_SECRET = "jwt-secret-for-security-tests-0123456789abcdef"
PASSWORD = "correct horse battery staple"
ADMIN_EMAIL = "admin@security.example"
ADMIN_PASSWORD = "admin-password-for-tests"

# Every request of a test run comes from 127.0.0.1: per-client limits are lifted here and
# exercised by their own tests with small buckets.
UNLIMITED = RateLimits(
    per_client=Limit(burst=1_000_000, per_minute=1_000_000),
    per_principal=Limit(burst=1_000_000, per_minute=1_000_000),
    login=Limit(burst=1_000_000, per_minute=1_000_000),
    registration=Limit(burst=1_000_000, per_minute=1_000_000),
    export=Limit(burst=1_000_000, per_minute=1_000_000),
    login_per_account=Limit(burst=1_000_000, per_minute=1_000_000),
    totp_per_account=Limit(burst=1_000_000, per_minute=1_000_000),
    account_links=Limit(burst=1_000_000, per_minute=1_000_000),
)

T = TypeVar("T")


def gateway_supports_matcher() -> bool:
    """The gateway takes a matcher transport and the matcher app imports (other work may
    leave it half-changed in a shared working tree: then the suite runs without it and the
    gateway answers 503 for matcher routes, which the contract allows)."""
    if "matcher_transport" not in inspect.signature(create_app).parameters:
        return False
    try:
        import convene_matcher.main  # noqa: F401
    except ImportError as exc:
        logging.getLogger(__name__).warning("matcher not importable: %s", exc)
        return False
    return True


class LogCapture(logging.Handler):
    """Keeps every record as the production formatter renders it (extras included)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonFormatter("security-tests"))
        self.lines: list[str] = []
        self._lock_lines = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        with self._lock_lines:
            self.lines.append(line)

    def text(self) -> str:
        with self._lock_lines:
            return "\n".join(self.lines)


@dataclass
class Suite:
    """A running suite: `url`, a sync `client`, and helpers to make principals."""

    url: str
    client: httpx.Client
    loop: asyncio.AbstractEventLoop
    gateway: FastAPI
    with_matcher: bool
    logs: LogCapture
    dsn_gateway: str
    dsn_matcher: str = ""
    admin_headers: dict[str, str] = field(default_factory=dict)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Runs a coroutine on the suite's loop (where its pools live)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def register(self, *, name: str = "Ada Citizen", email: str | None = None) -> dict[str, Any]:
        email = email or f"citizen-{uuid.uuid4().hex[:10]}@security.example"
        response = self.client.post(
            "/v1/citizens", json={"email": email, "password": PASSWORD, "display_name": name}
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        if self.with_matcher:
            self.verify(email)
        return body

    def verify(self, email: str) -> None:
        """Follows the verification link queued in the matcher's outbox (unverified citizens
        are not matched or invited)."""
        import re

        import asyncpg

        async def newest_text() -> str:
            connection = await asyncpg.connect(self.dsn_matcher)
            try:
                text: str = await connection.fetchval(
                    """SELECT text_body FROM matcher.account_email
                       WHERE lower(to_address) = lower($1) AND email_kind = 'verify_email'
                       ORDER BY notification_id DESC LIMIT 1""",
                    email,
                )
                return text
            finally:
                await connection.close()

        found = re.search(r"/verify-email\?token=([A-Za-z0-9_\-%]+)", self.run(newest_text()))
        assert found is not None
        verified = self.client.post("/v1/auth/verify-email", json={"token": found.group(1)})
        assert verified.status_code == 204, verified.text

    def staff(
        self, organisation: dict[str, Any], role: str
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """A member of the organisation (made by bootstrap): ({email, account_id}, bearer)."""
        email = f"{role}-{uuid.uuid4().hex[:8]}@security.example"
        self.run(
            bootstrap(
                dsn=self.dsn_gateway,
                admin_email=ADMIN_EMAIL,
                admin_password=ADMIN_PASSWORD,
                organisation=organisation["name"],
                organisation_kind="council",
                scopes=[],
                create_api_key=False,
                hasher=self.gateway.state.password_hasher,
                members=[(email, PASSWORD, role)],
            )
        )
        headers = self.login(email)
        me = self.client.get("/v1/organisation", headers=headers)
        assert me.status_code == 200, me.text
        return {"email": email, "account_id": me.json()["account_id"]}, headers

    def login(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        response = self.client.post(
            "/v1/auth/token", data={"username": email, "password": password}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def citizen(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, str]]:
        created = self.register(**kwargs)
        return created, self.login(created["email"])

    def organisation(self, name: str | None = None) -> tuple[dict[str, Any], dict[str, str]]:
        """A public body and a key holding every scope: (organisation, key headers)."""
        response = self.client.post(
            "/v1/admin/organisations",
            json={"name": name or f"Council {uuid.uuid4().hex[:8]}", "kind": "council"},
            headers=self.admin_headers,
        )
        assert response.status_code == 201, response.text
        organisation: dict[str, Any] = response.json()
        key = self.client.post(
            f"/v1/admin/organisations/{organisation['id']}/api-keys",
            json={"name": "tests", "scopes": ["calls:read", "calls:write", "ratings:write"]},
            headers=self.admin_headers,
        )
        assert key.status_code == 201, key.text
        return organisation, {"X-API-Key": key.json()["api_key"]}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class SuiteRunner:
    """Starts the suite on a thread with its own loop; `stop()` ends it and drops its database."""

    def __init__(
        self,
        *,
        cluster: EmbeddedPostgres,
        template: str,
        index_dir: Path,
        rate_limits: RateLimits = UNLIMITED,
        sentence_model: Any = None,
    ) -> None:
        self._cluster = cluster
        self._template = template
        self._index_dir = index_dir
        self._rate_limits = rate_limits
        self._sentence_model = sentence_model
        self._database = f"sec_{uuid.uuid4().hex[:16]}"
        self._port = _free_port()
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="security-suite", daemon=True)
        self._gateway: FastAPI | None = None
        self.logs = LogCapture()

    def start(self) -> Suite:
        root = logging.getLogger()
        root.addHandler(self.logs)
        # What production logs (configure_logging's default level), so the capture is real.
        self._previous_level = root.level
        root.setLevel(logging.INFO)
        self._thread.start()
        self._started.wait(120)
        if self._error is not None:
            raise RuntimeError("the suite did not start") from self._error
        assert self._gateway is not None, "the suite did not start in time"
        url = f"http://127.0.0.1:{self._port}"
        suite = Suite(
            url=url,
            client=httpx.Client(base_url=url, timeout=30),
            loop=self._loop,
            gateway=self._gateway,
            with_matcher=self._sentence_model is not None and gateway_supports_matcher(),
            logs=self.logs,
            dsn_gateway=self._cluster.dsn(self._database, role="convene_gateway"),
            dsn_matcher=self._cluster.dsn(self._database, role="convene_matcher"),
        )
        hasher = self._gateway.state.password_hasher
        suite.run(
            bootstrap(
                dsn=suite.dsn_gateway,
                admin_email=ADMIN_EMAIL,
                admin_password=ADMIN_PASSWORD,
                organisation=None,
                organisation_kind="council",
                scopes=[],
                create_api_key=False,
                hasher=hasher,
            )
        )
        suite.admin_headers = suite.login(ADMIN_EMAIL, ADMIN_PASSWORD)
        self._suite = suite
        return suite

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)
        self._suite.client.close()
        logging.getLogger().removeHandler(self.logs)
        logging.getLogger().setLevel(self._previous_level)

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._started.set()
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        await self._cluster.create_database_from_template(self._database, self._template)
        try:
            async with AsyncExitStack() as stack:
                profiles = create_profiles_app(
                    ProfilesSettings(
                        environment="test",
                        database_url=self._cluster.dsn(self._database, role="convene_profiles"),
                        internal_token=INTERNAL_TOKEN,
                        database_pool_max=4,
                        erasure_salt="security-tests-salt",
                    )
                )
                await stack.enter_async_context(profiles.router.lifespan_context(profiles))
                transports: dict[str, Any] = {
                    "profiles_transport": httpx.ASGITransport(app=profiles)
                }
                if self._sentence_model is not None and gateway_supports_matcher():
                    transports["matcher_transport"] = httpx.ASGITransport(
                        app=await self._matcher(stack, profiles)
                    )
                gateway = create_app(
                    GatewaySettings(
                        environment="test",
                        database_url=self._cluster.dsn(self._database, role="convene_gateway"),
                        jwt_secret=JWT_SECRET,
                        internal_token=INTERNAL_TOKEN,
                        argon2_time_cost=1,
                        argon2_memory_cost_kib=1024,
                        argon2_parallelism=1,
                        downstream_retry_backoff_seconds=0.0,
                        database_pool_max=8,
                        rate_limits=self._rate_limits,
                    ),
                    **transports,
                )
                await stack.enter_async_context(gateway.router.lifespan_context(gateway))
                server = uvicorn.Server(
                    uvicorn.Config(
                        gateway,
                        host="127.0.0.1",
                        port=self._port,
                        lifespan="off",
                        log_config=None,
                        access_log=False,
                    )
                )
                serving = asyncio.create_task(server.serve())
                while not server.started:
                    if serving.done():
                        serving.result()
                    await asyncio.sleep(0.02)
                self._gateway = gateway
                self._started.set()
                await self._stop.wait()
                server.should_exit = True
                await serving
        finally:
            await self._cluster.drop_database(self._database)

    async def _matcher(self, stack: AsyncExitStack, profiles: FastAPI) -> FastAPI:
        from convene_matcher.config import MatcherSettings
        from convene_matcher.main import create_app as create_matcher_app

        matcher = create_matcher_app(
            MatcherSettings(
                environment="test",
                database_url=self._cluster.dsn(self._database, role="convene_matcher"),
                internal_token=INTERNAL_TOKEN,
                database_pool_max=4,
                index_dir=self._index_dir,
                profiles_url="http://profiles.test",
                feed_enabled=True,
                feed_wait_seconds=1,
                feed_poll_seconds=0.2,
            ),
            profiles_transport=httpx.ASGITransport(app=profiles),
            embedding_model=self._sentence_model,
        )
        await stack.enter_async_context(matcher.router.lifespan_context(matcher))
        return matcher
