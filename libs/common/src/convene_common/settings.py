"""Settings shared by every service; each service subclasses with its own env prefix."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Fields every Convene service has. Subclasses set ``env_prefix``."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: SecretStr | None = None
    database_schema: str = "public"
    database_pool_min: int = 1
    database_pool_max: int = 10
    log_level: str = "INFO"
    max_request_bytes: int = 64 * 1024
    # Shared secret that service-to-service calls carry in X-Internal-Token.
    internal_token: SecretStr | None = None
    # Traces: "none" (made, propagated, never exported), "console" (stdout) or "otlp".
    trace_exporter: Literal["none", "console", "otlp"] = "none"
    otlp_traces_endpoint: str = "http://127.0.0.1:4318/v1/traces"

    @model_validator(mode="after")
    def _secrets_outside_development(self) -> ServiceSettings:
        if self.environment == "production" and self.internal_token is None:
            raise ValueError("internal_token must be set in production")
        return self

    def dsn(self) -> str:
        if self.database_url is None:
            raise ValueError("database_url is not set")
        return self.database_url.get_secret_value()
