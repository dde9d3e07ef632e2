"""Settings for the gateway service (env prefix CONVENE_GATEWAY_)."""

from __future__ import annotations

import secrets
from typing import Any

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from convene_common.settings import ServiceSettings
from convene_gateway.ratelimit.config import RateLimits

# Made once per process and used only when environment=development and no secret is set:
# tokens then stop working at a restart, which is what a developer expects.
_DEVELOPMENT_JWT_SECRET = secrets.token_urlsafe(48)
MIN_JWT_SECRET_LENGTH = 32


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONVENE_GATEWAY_", extra="ignore", frozen=True)

    port: int = 8000
    database_schema: str = "gateway"

    profiles_url: str = "http://127.0.0.1:8001"
    matcher_url: str = "http://127.0.0.1:8002"
    # Downstream calls: every call is bounded; a hung downstream answers 504, never a hang.
    downstream_connect_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    downstream_read_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    downstream_write_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    downstream_pool_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    # Requests in flight per downstream client (and replica), each on a kept-alive connection;
    # more wait their turn in O(1) (convene_common.service_transport). 200 reads/s at a few
    # ms each need a handful; a larger bound only lets a backlog pile onto the services'
    # small database pools instead of waiting here.
    downstream_max_connections: int = Field(default=32, ge=1, le=1000)
    # Whole-call deadline over connect, send and every read: a downstream that drips its
    # answer byte by byte defeats per-read timeouts but not this.
    downstream_deadline_seconds: float = Field(default=10.0, gt=0, le=300)
    downstream_retries: int = Field(default=2, ge=0, le=5)
    downstream_retry_backoff_seconds: float = Field(default=0.1, ge=0, le=5)
    downstream_retry_after_seconds: int = Field(default=5, ge=1, le=3600)
    matcher_read_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # POST /v1/admin/affinity has a limit of its own (every other route: max_request_bytes,
    # 64 KiB): one researcher's 20 papers (title, abstract and text) and their candidates
    # reach 91 KB in the gold standard, and the matcher's own limit is 4 MiB.
    affinity_max_request_bytes: int = Field(default=1024 * 1024, ge=64 * 1024, le=4 * 1024 * 1024)
    # ... and a read timeout and deadline of its own: the matcher embeds every text of the
    # request (up to 400 texts of 20,000 characters), which takes longer than routing a call:
    # a 20-paper profile with 10 candidates took over 10 s on a loaded 2-core machine.
    affinity_timeout_seconds: float = Field(default=60.0, gt=0, le=300)

    # Uploads (issue 12): an import of past consultation responses (POST /v1/admin/imports)
    # and a citizen's Q&A answers file (POST /v1/me/answers-import). The file limits match
    # profiles' (docs/imports.md); a multipart body may be this much larger for its headers.
    imports_max_file_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    answers_max_file_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    upload_overhead_bytes: int = Field(default=64 * 1024, ge=1024)
    # Sending a large file to profiles and having it stored takes longer than a usual call.
    upload_timeout_seconds: float = Field(default=120.0, gt=0, le=600)

    # Bearer tokens (HS256). Required outside development; see the validator below.
    jwt_secret: SecretStr
    jwt_issuer: str = "convene-gateway"
    jwt_audience: str = "convene"
    # Short: an access token outlives nothing by much. A revoked session stops its access
    # tokens at once anyway (the session is checked per request, cache below).
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=7 * 24 * 3600)
    # A sign-in session (its family of rotating refresh tokens) ends this long after sign-in.
    session_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=300, le=365 * 24 * 3600)
    # How long this process trusts "the session / API key behind a credential is still live"
    # without asking the database (auth/cache.py). Erasure and revocation evict at once in the
    # process that makes them; another replica may accept the credential this long (SECURITY.md).
    credential_cache_ttl_seconds: float = Field(default=5.0, ge=0, le=30)
    credential_cache_max_entries: int = Field(default=10_000, ge=1, le=1_000_000)

    # Admins get admin scope only after a second factor (TOTP). None: required except in
    # development and test, where an admin who has not enrolled may sign in with a password
    # (make run's demo admin is enrolled, so make run exercises it). An admin without the
    # factor gets a token that may only enrol one.
    admin_totp_required: bool | None = None

    # Account emails link to the web service's pages (/verify-email, /reset-password, /join).
    web_base_url: str = "http://127.0.0.1:8080"
    email_verification_ttl_seconds: int = Field(default=48 * 3600, ge=60, le=30 * 24 * 3600)
    password_reset_ttl_seconds: int = Field(default=3600, ge=60, le=24 * 3600)
    staff_invitation_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60, le=30 * 24 * 3600)
    # Emails of one kind to one account: at most this many per hour (resend, reset requests).
    account_emails_per_hour: int = Field(default=5, ge=1, le=100)

    # argon2id parameters (RFC 9106 second recommended option by default). Tests lower them.
    argon2_time_cost: int = Field(default=3, ge=1, le=10)
    argon2_memory_cost_kib: int = Field(default=65536, ge=1024, le=1024 * 1024)
    argon2_parallelism: int = Field(default=4, ge=1, le=16)
    # At most this many hashes at once: each takes memory_cost and a core for tens of ms.
    password_hash_concurrency: int = Field(default=2, ge=1, le=64)

    # Token buckets per client address, principal, login, registration and export.
    rate_limits: RateLimits = Field(default_factory=RateLimits)

    @property
    def admin_second_factor_required(self) -> bool:
        if self.admin_totp_required is not None:
            return self.admin_totp_required
        return self.environment not in ("development", "test")

    @model_validator(mode="before")
    @classmethod
    def _development_jwt_secret(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("jwt_secret") in (None, ""):
            environment = data.get("environment", "development")
            if environment == "development":
                return {**data, "jwt_secret": _DEVELOPMENT_JWT_SECRET}
            raise ValueError("jwt_secret must be set outside development")
        return data

    @model_validator(mode="after")
    def _jwt_secret_strength(self) -> GatewaySettings:
        if len(self.jwt_secret.get_secret_value()) < MIN_JWT_SECRET_LENGTH:
            raise ValueError(f"jwt_secret must be at least {MIN_JWT_SECRET_LENGTH} characters")
        return self
