"""Settings for the gateway service (env prefix CONVENE_GATEWAY_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from convene_common.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONVENE_GATEWAY_", extra="ignore", frozen=True)

    port: int = 8000
    database_schema: str = "gateway"
