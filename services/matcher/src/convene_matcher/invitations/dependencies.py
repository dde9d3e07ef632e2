"""Typed access to what the invitation routes need from the lifespan's state."""

from __future__ import annotations

from typing import Annotated, Any, TypeAlias

import asyncpg
import httpx
from fastapi import Depends, Request

from convene_matcher.citizens.store import CitizenStore
from convene_matcher.config import MatcherSettings
from convene_matcher.dependencies import ready_evidence

Pool: TypeAlias = "asyncpg.Pool[Any]"


def get_pool(request: Request) -> Pool:
    pool: Pool = request.app.state.pool
    return pool


def get_settings(request: Request) -> MatcherSettings:
    settings: MatcherSettings = request.app.state.settings
    return settings


def get_store(request: Request) -> CitizenStore:
    """The matcher's citizen store (503 while the model and index load)."""
    return ready_evidence(request).store


def get_profiles_http(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.app.state.profiles_http
    return client


def get_internal_token(settings: Annotated[MatcherSettings, Depends(get_settings)]) -> str | None:
    token = settings.internal_token
    return token.get_secret_value() if token is not None else None


PoolDep = Annotated[Pool, Depends(get_pool)]
SettingsDep = Annotated[MatcherSettings, Depends(get_settings)]
StoreDep = Annotated[CitizenStore, Depends(get_store)]
ProfilesHttpDep = Annotated[httpx.AsyncClient, Depends(get_profiles_http)]
InternalTokenDep = Annotated[str | None, Depends(get_internal_token)]
