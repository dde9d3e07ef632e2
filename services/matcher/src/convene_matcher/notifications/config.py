"""Settings of the notification worker (env prefix CONVENE_MATCHER_, shared with the matcher:
the same database, internal token and profiles URL)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from convene_common.settings import ServiceSettings


class NotificationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONVENE_MATCHER_", extra="ignore", frozen=True)

    database_schema: str = "matcher"
    database_pool_max: int = 6
    profiles_url: str = "http://127.0.0.1:8001"
    profiles_timeout_seconds: float = Field(default=10.0, gt=0)
    # Links in emails point at the pages (services/web: /invitations/{id}).
    public_url: str = "http://127.0.0.1:8080"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_from: str = "Convene <notifications@convene.example>"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    smtp_start_tls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None

    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_allow_private_addresses: bool = False

    # Sender tasks: each holds one row lock and one SMTP connection at a time.
    notify_senders: int = Field(default=4, ge=1, le=64)
    notify_poll_seconds: float = Field(default=0.5, gt=0)
    notify_max_attempts: int = Field(default=8, ge=1, le=100)
    # Retry n waits min(max, base * 2^(n-1)), half of it jittered at random.
    notify_backoff_base_seconds: float = Field(default=5.0, ge=0)
    notify_backoff_max_seconds: float = Field(default=3600.0, ge=0)
    # One reminder per pending invitation this long before its call's deadline.
    reminder_before_hours: float = Field(default=48.0, gt=0)
    reminder_check_seconds: float = Field(default=60.0, gt=0)
