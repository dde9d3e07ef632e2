"""Settings for the matcher service (env prefix CONVENE_MATCHER_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from convene_common.settings import ServiceSettings


class MatcherSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONVENE_MATCHER_", extra="ignore", frozen=True)

    port: int = 8002
    database_schema: str = "matcher"
