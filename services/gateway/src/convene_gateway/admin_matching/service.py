"""Admin matching rules at the gateway: the acting admin is recorded as the author."""

from __future__ import annotations

import uuid

from convene_gateway.admin_matching.schemas import (
    ActivationList,
    ConfigList,
    ConfigRead,
    EvaluationCreate,
    EvaluationRead,
    MatchingConfigCreate,
    PreviewResult,
)
from convene_gateway.auth.schemas import AdminPrincipal
from convene_gateway.clients.matcher_admin import MatcherAdminClient


def actor(admin: AdminPrincipal) -> str:
    """Who did it, as recorded: the admin's account id (no name or email)."""
    return f"admin:{admin.account_id}"


async def list_configs(
    *, matcher: MatcherAdminClient, limit: int, cursor: str | None
) -> ConfigList:
    return await matcher.list_configs(limit=limit, cursor=cursor)


async def get_active(*, matcher: MatcherAdminClient) -> ConfigRead:
    return await matcher.get_active_config()


async def get_config(*, matcher: MatcherAdminClient, config_id: int) -> ConfigRead:
    return await matcher.get_config(config_id=config_id)


async def create_config(
    *, matcher: MatcherAdminClient, admin: AdminPrincipal, body: MatchingConfigCreate
) -> ConfigRead:
    return await matcher.create_config(
        settings=body.settings, note=body.note, created_by=actor(admin)
    )


async def activate(
    *, matcher: MatcherAdminClient, admin: AdminPrincipal, config_id: int
) -> ConfigRead:
    return await matcher.activate_config(config_id=config_id, activated_by=actor(admin))


async def rollback(*, matcher: MatcherAdminClient, admin: AdminPrincipal) -> ConfigRead:
    return await matcher.rollback_config(activated_by=actor(admin))


async def list_activations(
    *, matcher: MatcherAdminClient, limit: int, cursor: str | None
) -> ActivationList:
    return await matcher.list_activations(limit=limit, cursor=cursor)


async def preview(
    *, matcher: MatcherAdminClient, config_id: int, call_id: uuid.UUID
) -> PreviewResult:
    return await matcher.preview_config(config_id=config_id, call_id=call_id)


async def start_evaluation(
    *, matcher: MatcherAdminClient, admin: AdminPrincipal, body: EvaluationCreate
) -> EvaluationRead:
    evaluation = {**body.model_dump(mode="json", exclude_none=True), "created_by": actor(admin)}
    return await matcher.start_evaluation(evaluation=evaluation)


async def get_evaluation(*, matcher: MatcherAdminClient, job_id: uuid.UUID) -> EvaluationRead:
    return await matcher.get_evaluation(job_id=job_id)


async def cancel_evaluation(*, matcher: MatcherAdminClient, job_id: uuid.UUID) -> EvaluationRead:
    return await matcher.cancel_evaluation(job_id=job_id)
