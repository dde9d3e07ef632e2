"""GET /v1/admin/audit (every entry) and GET /v1/organisation/audit (managers: their own)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from convene_common.problems import problem_responses
from convene_gateway.audit import service
from convene_gateway.audit.repository import AuditRow
from convene_gateway.audit.schemas import AuditEntryRead, AuditPage
from convene_gateway.auth.dependencies import CurrentAdmin, CurrentManager
from convene_gateway.dependencies import PoolDep

router = APIRouter(tags=["audit"])

Action = Annotated[
    str | None,
    Query(max_length=60, pattern=r"^[a-z_]+\.[a-z_]+$", description="e.g. member.removed"),
]
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=200, description="next_cursor, as given")]


def _page(rows: list[AuditRow], next_cursor: str | None) -> AuditPage:
    return AuditPage(
        items=[AuditEntryRead.model_validate(row, from_attributes=True) for row in rows],
        next_cursor=next_cursor,
    )


@router.get(
    "/v1/admin/audit",
    summary="The audit log, newest first (filters; keyset pagination)",
    responses=problem_responses(400, 401, 403, 422),
)
async def admin_audit(
    admin: CurrentAdmin,
    pool: PoolDep,
    organisation_id: uuid.UUID | None = None,
    action: Action = None,
    actor_id: uuid.UUID | None = None,
    object_id: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> AuditPage:
    rows, next_cursor = await service.list_entries(
        pool=pool,
        organisation_id=organisation_id,
        action=action,
        actor_id=actor_id,
        object_id=object_id,
        cursor=cursor,
        limit=limit,
    )
    return _page(rows, next_cursor)


@router.get(
    "/v1/organisation/audit",
    summary="Your organisation's audit log, newest first (managers)",
    responses=problem_responses(400, 401, 403, 422),
)
async def organisation_audit(
    manager: CurrentManager,
    pool: PoolDep,
    action: Action = None,
    actor_id: uuid.UUID | None = None,
    object_id: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> AuditPage:
    rows, next_cursor = await service.list_entries(
        pool=pool,
        organisation_id=manager.organisation_id,
        action=action,
        actor_id=actor_id,
        object_id=object_id,
        cursor=cursor,
        limit=limit,
    )
    return _page(rows, next_cursor)
