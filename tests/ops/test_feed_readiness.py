"""With ready_max_feed_lag set, a matcher is ready only once it has read the change feed and
is at most that many changes behind: a gateway spreading over replicas skips it until then."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from convene_matcher.config import MatcherSettings
from convene_matcher.main import create_app
from tests.conftest import FreshDatabase
from tests.gateway.conftest import INTERNAL_TOKEN, CallsGateway
from tests.ops.test_metrics import _profiles_app


async def readyz(client: httpx.AsyncClient) -> tuple[int, dict[str, Any]]:
    response = await client.get("/readyz")
    return response.status_code, response.json()["components"]


async def test_a_matcher_catching_up_on_the_feed_is_not_ready(
    calls_gateway: CallsGateway, database: FreshDatabase, sentence_model: Any, tmp_path: Path
) -> None:
    g = calls_gateway
    for skill in ("Social care", "Nursing", "Community work"):
        await g.seed_citizen(skills=[skill])
    settings = MatcherSettings(
        environment="test",
        database_url=database.dsn("matcher"),
        database_pool_max=2,
        index_dir=tmp_path / "second-index",
        profiles_url="http://profiles.test",
        internal_token=INTERNAL_TOKEN,
        feed_enabled=False,  # driven step by step below
        feed_wait_seconds=0,
        feed_page_size=2,
        ready_max_feed_lag=1,
    )
    app = create_app(
        settings,
        profiles_transport=httpx.ASGITransport(app=_profiles_app(g)),
        embedding_model=sentence_model,
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as client,
    ):
        status, components = await readyz(client)
        assert status == 503
        assert components["feed"] == "catching up: not read yet"
        await app.state.feed.poll_once()  # one page of two changes; more are waiting
        assert app.state.feed.lag > 1
        status, components = await readyz(client)
        assert status == 503
        assert components["feed"] == f"catching up: {app.state.feed.lag} changes behind"
        await app.state.feed.catch_up()
        status, components = await readyz(client)
        assert status == 200, components
        assert components["feed"] == "ok"

    # Without the setting (the default) the feed does not gate readiness.
    assert "feed" not in (await readyz_of_the_gateways_matcher(g))


async def readyz_of_the_gateways_matcher(g: CallsGateway) -> dict[str, Any]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=g.matcher_app), base_url="http://m"
    ) as client:
        status, components = await readyz(client)
    assert status == 200
    return components
