"""Rate-limit settings, a part of GatewaySettings (CONVENE_GATEWAY_RATE_LIMITS as JSON)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Limit(BaseModel):
    """A token bucket: `burst` requests at once, refilled at `per_minute` requests a minute."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    burst: int = Field(ge=1, le=1_000_000)
    per_minute: float = Field(gt=0, le=1_000_000)


class RateLimits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    # Buckets in the gateway's PostgreSQL schema, shared by every replica (one statement per
    # request, ratelimit/limiter.py). False: per process, so N replicas allow N times a limit.
    shared: bool = True
    # How long a request waits for a database connection to count it before it is counted
    # in this process instead.
    acquire_timeout_seconds: float = Field(default=1.0, gt=0, le=10)
    # Connections of the limiter's own pool (per replica), beside the gateway's pool.
    pool_max: int = Field(default=4, ge=1, le=100)
    # How often refilled buckets are deleted from the shared table.
    purge_every_seconds: float = Field(default=60.0, gt=0)
    # Every request from one client address (behind a proxy: the address uvicorn's
    # --proxy-headers resolves). Bounds credential spraying and anonymous floods.
    per_client: Limit = Limit(burst=600, per_minute=1200)
    # Every request made with one API key, or one account's bearer tokens (however many
    # tokens it holds).
    per_principal: Limit = Limit(burst=300, per_minute=300)
    # POST /v1/auth/token per client address: slows password guessing. The same bucket
    # answers for known and unknown emails, so its 429 reveals nothing about accounts.
    login: Limit = Limit(burst=10, per_minute=10)
    # Sign-in attempts per account (by the email given, known or not: the same bucket for
    # both, so a 429 reveals nothing), whatever addresses they come from: slows a
    # distributed guess at one account's password.
    login_per_account: Limit = Limit(burst=10, per_minute=2)
    # Second-factor codes per account: 10^6 codes, so a handful of tries per minute.
    totp_per_account: Limit = Limit(burst=5, per_minute=1)
    # Emailed-token routes per client address (verify-email, password-reset[/confirm],
    # join): slows guessing and mail bombing.
    account_links: Limit = Limit(burst=30, per_minute=30)
    # POST /v1/citizens per client address: registration answers 409 for a taken email, so
    # it is an enumeration oracle unless slowed down.
    registration: Limit = Limit(burst=20, per_minute=20)
    # GET /v1/me/export per account: the most expensive and most sensitive read.
    export: Limit = Limit(burst=5, per_minute=10 / 60)
    # Buckets kept in memory at most (per process, or shared when the database is away); the
    # least recently used are forgotten first.
    max_tracked_keys: int = Field(default=100_000, ge=100, le=10_000_000)
