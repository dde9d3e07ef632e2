"""Typed access to what the lifespan put on app.state."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
import httpx
from fastapi import Depends, Request

from convene_common.db import Pool
from convene_profiles.config import ProfilesSettings
from convene_profiles.imports.sealing import Sealer


# `async def` although nothing is awaited: FastAPI runs a plain `def` dependency in its
# thread pool, a thread hop per dependency per request.
async def get_pool(request: Request) -> Pool:
    pool: asyncpg.Pool[Any] = request.app.state.pool
    return pool


async def get_settings(request: Request) -> ProfilesSettings:
    settings: ProfilesSettings = request.app.state.settings
    return settings


async def get_http_client(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.app.state.http_client
    return client


async def get_sealer(request: Request) -> Sealer:
    sealer: Sealer = request.app.state.sealer
    return sealer


SealerDep = Annotated[Sealer, Depends(get_sealer)]
PoolDep = Annotated[Pool, Depends(get_pool)]
SettingsDep = Annotated[ProfilesSettings, Depends(get_settings)]
HttpClientDep = Annotated[httpx.AsyncClient, Depends(get_http_client)]
