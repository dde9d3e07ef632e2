"""Settings for the profiles service (env prefix CONVENE_PROFILES_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from convene_common.settings import ServiceSettings


class ProfilesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONVENE_PROFILES_", extra="ignore", frozen=True)

    port: int = 8001
    database_schema: str = "profiles"
