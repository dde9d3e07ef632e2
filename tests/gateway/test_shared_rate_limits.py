"""Rate limits shared by gateway replicas: the buckets live in PostgreSQL (migration 0090), so
two gateways (two limiters, two apps, two pools) over one database count against one limit;
in-process buckets (shared = false) allow it once per replica; a database that cannot answer
falls back to the in-process count."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from convene_common.db import Pool, create_pool
from convene_gateway.main import create_app
from convene_gateway.ratelimit import repository
from convene_gateway.ratelimit.config import Limit, RateLimits
from convene_gateway.ratelimit.limiter import RateLimiter, Take
from tests.conftest import FreshDatabase
from tests.gateway.conftest import PASSWORD, EmailsSent, Gateway, SeenByProfiles, gateway_settings

BURST = Limit(burst=3, per_minute=1)  # a token a minute: no refill within a test


@pytest.fixture
async def pools(database: FreshDatabase) -> AsyncIterator[list[Pool]]:
    made = [
        await create_pool(database.dsn("gateway"), schema="gateway", min_size=1, max_size=2)
        for _ in range(2)
    ]
    yield made
    for pool in made:
        await pool.close()


def limiters(pools: list[Pool], *, shared: bool = True) -> list[RateLimiter]:
    made = []
    for pool in pools:
        limiter = RateLimiter(RateLimits(shared=shared))
        limiter.bind(pool)
        made.append(limiter)
    return made


async def alternate(replicas: list[RateLimiter], takes: list[Take], count: int) -> list[int]:
    return [(await replicas[i % 2].take(takes))[0] for i in range(count)]


async def test_two_replicas_share_one_bucket(pools: list[Pool]) -> None:
    replicas = limiters(pools)
    waits = await alternate(replicas, [Take("export", "account:1", BURST)], 5)
    assert waits[:3] == [0, 0, 0]
    # One token a minute: the next comes in about 60 s, whichever replica is asked.
    assert all(55 <= wait <= 61 for wait in waits[3:]), waits
    # Another key and another bucket name are other buckets.
    assert await replicas[1].take([Take("export", "account:2", BURST)]) == (0, "")
    assert await replicas[0].take([Take("principal", "account:1", BURST)]) == (0, "")


async def test_in_process_buckets_allow_the_limit_once_per_replica(pools: list[Pool]) -> None:
    replicas = limiters(pools, shared=False)
    waits = await alternate(replicas, [Take("export", "account:1", BURST)], 8)
    assert waits[:6] == [0] * 6
    assert all(waits[6:])


async def test_the_first_empty_bucket_is_named_and_concurrent_takes_never_overdraw(
    pools: list[Pool],
) -> None:
    replicas = limiters(pools)
    wide = Limit(burst=100, per_minute=1)
    takes = [
        Take("client", "127.0.0.1", wide),
        Take("login", "127.0.0.1", Limit(burst=20, per_minute=1)),
    ]
    results = await asyncio.gather(*(replicas[i % 2].take(takes) for i in range(40)))
    assert sum(1 for wait, _ in results if wait == 0) == 20
    assert {bucket for wait, bucket in results if wait} == {"login"}


async def test_buckets_refill_at_their_rate_and_full_ones_are_purged(pools: list[Pool]) -> None:
    [limiter, _] = limiters(pools)
    fast = Limit(burst=1, per_minute=120)  # a token every 0.5 s
    assert (await limiter.take([Take("login", "k", fast)]))[0] == 0
    assert (await limiter.take([Take("login", "k", fast)]))[0] == 1
    await asyncio.sleep(0.6)
    assert (await limiter.take([Take("login", "k", fast)]))[0] == 0
    async with pools[0].acquire() as connection:
        assert await repository.delete_full(connection) == 0  # not full yet
        await asyncio.sleep(0.6)
        assert await repository.delete_full(connection) == 1
        assert await connection.fetchval("SELECT count(*) FROM rate_limit_bucket") == 0


async def test_without_the_database_a_replica_counts_in_process(pools: list[Pool]) -> None:
    [limiter, _] = limiters(pools)
    await pools[0].close()
    waits = [(await limiter.take([Take("export", "account:1", BURST)]))[0] for _ in range(4)]
    assert waits[:3] == [0, 0, 0]
    assert waits[3] >= 1


# The defaults otherwise (a few requests here stay far below them).
SMALL = RateLimits(export=Limit(burst=2, per_minute=1), login_per_account=BURST)


@pytest.fixture
async def two_gateways(
    database: FreshDatabase, profiles_app: tuple[FastAPI, SeenByProfiles]
) -> AsyncIterator[list[Gateway]]:
    profiles, seen = profiles_app
    sent = EmailsSent()
    apps = [
        create_app(
            gateway_settings(database, rate_limits=SMALL),
            profiles_transport=httpx.ASGITransport(app=profiles),
            matcher_transport=sent.transport(),
        )
        for _ in range(2)
    ]
    async with (
        apps[0].router.lifespan_context(apps[0]),
        apps[1].router.lifespan_context(apps[1]),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[0]), base_url="http://a") as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[1]), base_url="http://b") as b,
    ):
        yield [
            Gateway(client=a, app=apps[0], seen_by_profiles=seen, sent=sent),
            Gateway(client=b, app=apps[1], seen_by_profiles=seen, sent=sent),
        ]


async def test_two_gateway_apps_share_the_export_limit_and_the_sign_in_brake(
    two_gateways: list[Gateway],
) -> None:
    a, b = two_gateways
    created, headers = await a.citizen()
    exports = [await (a, b)[i % 2].client.get("/v1/me/export", headers=headers) for i in range(3)]
    assert [r.status_code for r in exports] == [200, 200, 429]
    assert exports[2].json()["type"].endswith("/rate-limited")
    # One sign-in above took one of the account's 3 attempts (BURST).
    tries = [
        await (b, a)[i % 2].client.post(
            "/v1/auth/token", data={"username": created["email"], "password": "wrong " + PASSWORD}
        )
        for i in range(3)
    ]
    assert [r.status_code for r in tries] == [401, 401, 429]
    assert tries[2].json()["type"].endswith("/too-many-attempts")
