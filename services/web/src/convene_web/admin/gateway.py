"""The gateway calls the admin pages make (typed; functions taking the client and session)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field

from convene_web.gateway import GatewayClient
from convene_web.sessions import Session
from convene_web.staff.gateway import Read, request


class Config(Read):
    id: int
    settings: dict[str, Any]
    note: str
    created_at: datetime
    created_by: str
    active: bool


class ConfigList(Read):
    items: list[Config]
    next_cursor: str | None = None


class Activation(Read):
    id: int
    from_config_id: int | None
    to_config_id: int
    kind: str
    activated_at: datetime
    activated_by: str


class ActivationList(Read):
    items: list[Activation]
    next_cursor: str | None = None


class Preview(Read):
    call_id: uuid.UUID
    config_id: int
    active_config_id: int
    settings_changed: dict[str, Any]
    panel: dict[str, Any]
    active_panel: dict[str, Any]
    joined: list[dict[str, Any]]
    left: list[dict[str, Any]]
    quotas: list[dict[str, Any]]
    score_shifts: list[dict[str, Any]]
    summary: str


class Evaluation(Read):
    id: uuid.UUID
    config_id: int
    kind: str
    compare_with_active: bool
    status: str
    progress_percent: float
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None = None


class LorenzPoint(Read):
    population: float
    share: float


class Exposure(Read):
    window_days: int
    citizens: int
    invitations: int
    citizens_invited: int
    top_5_percent_share: float | None
    gini: float | None
    accepted: int
    new_voices_share: float | None
    lorenz: list[LorenzPoint] = Field(default_factory=list)
    citizens_at_monthly_cap: int = 0


class DeliveryAttempt(Read):
    attempt: int
    outcome: str
    detail: str | None
    at: datetime


class DeadLetter(Read):
    id: int
    kind: str
    channel: str
    attempts: int
    last_error: str | None
    created_at: datetime


class DeadLetterPage(Read):
    items: list[DeadLetter]
    next_cursor: str | None = None


class IndexStatus(Read):
    model: str
    kind: str
    last_seq: int
    head_seq: int | None
    lag: int | None
    items: int
    citizens: int
    feed_running: bool
    feed_consecutive_errors: int
    feed_last_error: str | None


class Organisation(Read):
    id: uuid.UUID
    name: str
    kind: str
    created_at: datetime


class OrganisationPage(Read):
    items: list[Organisation]
    next_cursor: str | None = None


class ApiKey(Read):
    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyList(Read):
    items: list[ApiKey]


async def list_configs(gateway: GatewayClient, *, session: Session) -> ConfigList:
    return await request(
        gateway,
        "GET",
        "/v1/admin/matching-configs",
        session=session,
        model=ConfigList,
        params={"limit": 100},
    )


async def get_config(gateway: GatewayClient, *, session: Session, config_id: int) -> Config:
    return await request(
        gateway, "GET", f"/v1/admin/matching-configs/{config_id}", session=session, model=Config
    )


async def active_config(gateway: GatewayClient, *, session: Session) -> Config:
    return await request(
        gateway, "GET", "/v1/admin/matching-configs/active", session=session, model=Config
    )


async def create_config(
    gateway: GatewayClient, *, session: Session, settings: dict[str, Any], note: str
) -> Config:
    return await request(
        gateway,
        "POST",
        "/v1/admin/matching-configs",
        session=session,
        model=Config,
        json={"settings": settings, "note": note},
    )


async def activate_config(gateway: GatewayClient, *, session: Session, config_id: int) -> Config:
    return await request(
        gateway,
        "POST",
        f"/v1/admin/matching-configs/{config_id}/activate",
        session=session,
        model=Config,
    )


async def rollback(gateway: GatewayClient, *, session: Session) -> Config:
    return await request(
        gateway, "POST", "/v1/admin/matching-configs/rollback", session=session, model=Config
    )


async def activations(gateway: GatewayClient, *, session: Session) -> ActivationList:
    return await request(
        gateway,
        "GET",
        "/v1/admin/matching-configs/activations",
        session=session,
        model=ActivationList,
        params={"limit": 100},
    )


async def preview(
    gateway: GatewayClient, *, session: Session, config_id: int, call_id: uuid.UUID
) -> Preview:
    return await request(
        gateway,
        "POST",
        f"/v1/admin/matching-configs/{config_id}/preview",
        session=session,
        model=Preview,
        json={"call_id": str(call_id)},
    )


async def start_evaluation(
    gateway: GatewayClient, *, session: Session, config_id: int, kind: str
) -> Evaluation:
    return await request(
        gateway,
        "POST",
        "/v1/admin/evaluations",
        session=session,
        model=Evaluation,
        json={"config_id": config_id, "kind": kind, "compare_with_active": True},
    )


async def get_evaluation(
    gateway: GatewayClient, *, session: Session, evaluation_id: uuid.UUID
) -> Evaluation:
    return await request(
        gateway, "GET", f"/v1/admin/evaluations/{evaluation_id}", session=session, model=Evaluation
    )


async def exposure(gateway: GatewayClient, *, session: Session, days: int = 365) -> Exposure:
    return await request(
        gateway, "GET", "/v1/admin/exposure", session=session, model=Exposure, params={"days": days}
    )


async def dead_letters(gateway: GatewayClient, *, session: Session) -> DeadLetterPage:
    return await request(
        gateway,
        "GET",
        "/v1/admin/notifications/dead",
        session=session,
        model=DeadLetterPage,
        params={"limit": 100},
    )


async def index_status(gateway: GatewayClient, *, session: Session) -> IndexStatus:
    return await request(
        gateway, "GET", "/v1/admin/index/status", session=session, model=IndexStatus
    )


async def list_organisations(gateway: GatewayClient, *, session: Session) -> OrganisationPage:
    return await request(
        gateway,
        "GET",
        "/v1/admin/organisations",
        session=session,
        model=OrganisationPage,
        params={"limit": 200},
    )


async def list_api_keys(
    gateway: GatewayClient, *, session: Session, organisation_id: uuid.UUID
) -> ApiKeyList:
    return await request(
        gateway,
        "GET",
        f"/v1/admin/organisations/{organisation_id}/api-keys",
        session=session,
        model=ApiKeyList,
    )
