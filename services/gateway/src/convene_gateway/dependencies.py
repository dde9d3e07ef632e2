"""Typed access to what the lifespan put on app.state."""

from __future__ import annotations

from typing import Annotated, Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from fastapi import Depends, Request

from convene_gateway.auth.cache import CredentialCache
from convene_gateway.auth.passwords import PasswordHasher
from convene_gateway.auth.throttle import SignInThrottle
from convene_gateway.clients.matcher import MatcherClient
from convene_gateway.clients.profiles import ProfilesClient
from convene_gateway.config import GatewaySettings

Connection: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"
Pool: TypeAlias = "asyncpg.Pool[Any]"


# `async def` although nothing is awaited: FastAPI runs a plain `def` dependency in its
# thread pool, a thread hop per dependency per request.
async def get_pool(request: Request) -> Pool:
    pool: asyncpg.Pool[Any] = request.app.state.pool
    return pool


async def get_settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


async def get_password_hasher(request: Request) -> PasswordHasher:
    hasher: PasswordHasher = request.app.state.password_hasher
    return hasher


async def get_credential_cache(request: Request) -> CredentialCache:
    cache: CredentialCache = request.app.state.credentials
    return cache


async def get_sign_in_throttle(request: Request) -> SignInThrottle:
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    return throttle


async def get_profiles_client(request: Request) -> ProfilesClient:
    client: ProfilesClient = request.app.state.profiles
    return client


async def get_matcher_client(request: Request) -> MatcherClient:
    client: MatcherClient = request.app.state.matcher
    return client


PoolDep = Annotated[Pool, Depends(get_pool)]
SettingsDep = Annotated[GatewaySettings, Depends(get_settings)]
HasherDep = Annotated[PasswordHasher, Depends(get_password_hasher)]
CredentialsDep = Annotated[CredentialCache, Depends(get_credential_cache)]
ThrottleDep = Annotated[SignInThrottle, Depends(get_sign_in_throttle)]
ProfilesDep = Annotated[ProfilesClient, Depends(get_profiles_client)]
MatcherDep = Annotated[MatcherClient, Depends(get_matcher_client)]
