"""A database that went away is a 503 problem with Retry-After, never a 500."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from convene_common.problems import install_problem_handlers


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/lost")
    async def lost() -> None:
        raise asyncpg.ConnectionDoesNotExistError(
            "connection was closed in the middle of operation"
        )

    @app.get("/refused")
    async def refused() -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    @app.get("/recovering")
    async def recovering() -> None:
        raise asyncpg.CannotConnectNowError("the database system is in recovery mode")

    @app.get("/closed-during-rollback")
    async def closed_during_rollback() -> None:
        try:
            raise asyncpg.ConnectionDoesNotExistError("connection was closed")
        except asyncpg.ConnectionDoesNotExistError:
            # What leaving a transaction block on the dead connection raises.
            raise asyncpg.InterfaceError("cannot perform operation: connection is closed")  # noqa: B904

    @app.get("/misuse")
    async def misuse() -> None:
        raise asyncpg.InterfaceError("cannot perform operation: another operation is in progress")

    return app


@pytest.mark.parametrize("path", ["/lost", "/refused", "/recovering", "/closed-during-rollback"])
async def test_database_outage_is_503_with_retry_after(path: str) -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get(path)
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "2"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/database-unavailable")


async def test_asyncpg_misuse_stays_a_500() -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/misuse")
    assert response.status_code == 500
    assert response.json()["type"].endswith("/internal-error")
