"""Settings for the web service (env prefix CONVENE_WEB_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from convene_common.settings import ServiceSettings

# services/web: package.json, node_modules/ (npm ci) and vendor/ (the copied assets) live here.
SERVICE_DIR = Path(__file__).resolve().parents[2]


class WebSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONVENE_WEB_", extra="ignore", frozen=True)

    port: int = 8080
    # The only service the pages talk to: the gateway's public API.
    gateway_url: str = "http://127.0.0.1:8000"
    gateway_connect_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    gateway_read_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    # The whole call, connect to last byte: a page never hangs on a slow gateway.
    gateway_deadline_seconds: float = Field(default=20.0, gt=0, le=300)
    gateway_max_connections: int = Field(default=50, ge=1, le=1000)

    session_cookie_name: str = "convene_session"
    # Server-side sessions live in this process's memory (see sessions.py for the limits).
    session_idle_minutes: int = Field(default=60, ge=1, le=24 * 60)
    session_max_entries: int = Field(default=20_000, ge=10, le=1_000_000)
    # Where `python -m convene_web.assets` copied GOV.UK Frontend and htmx (never committed).
    vendor_dir: Path = SERVICE_DIR / "vendor"
    max_request_bytes: int = 2 * 1024 * 1024

    @property
    def secure_cookies(self) -> bool:
        """HTTPS-only cookies everywhere but a developer's (and the tests') loopback."""
        return self.environment == "production"
