"""Admin routes for organisations and their API keys."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from convene_common.problems import problem_responses
from convene_gateway.audit.service import Actor
from convene_gateway.auth.dependencies import CurrentAdmin
from convene_gateway.dependencies import CredentialsDep, PoolDep
from convene_gateway.organisations import service
from convene_gateway.organisations.repository import ApiKeyRow, OrganisationRow
from convene_gateway.organisations.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyRead,
    OrganisationCreate,
    OrganisationPage,
    OrganisationRead,
)

router = APIRouter(prefix="/v1/admin", tags=["admin: organisations"])


def _organisation(row: OrganisationRow) -> OrganisationRead:
    return OrganisationRead.model_validate(row, from_attributes=True)


def key_read(row: ApiKeyRow) -> ApiKeyRead:
    return ApiKeyRead(
        id=row.id,
        organisation_id=row.organisation_id,
        name=row.name,
        prefix=row.lookup_prefix,
        scopes=row.scopes,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


@router.post(
    "/organisations",
    status_code=status.HTTP_201_CREATED,
    summary="Register a public body",
    responses=problem_responses(401, 403, 409, 422),
)
async def create_organisation(
    body: OrganisationCreate, admin: CurrentAdmin, pool: PoolDep
) -> OrganisationRead:
    row = await service.create_organisation(pool=pool, name=body.name, kind=body.kind)
    return _organisation(row)


@router.get(
    "/organisations",
    summary="List public bodies",
    responses=problem_responses(400, 401, 403, 422),
)
async def list_organisations(
    admin: CurrentAdmin,
    pool: PoolDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> OrganisationPage:
    rows, next_cursor = await service.list_organisations(pool=pool, cursor=cursor, limit=limit)
    return OrganisationPage(items=[_organisation(row) for row in rows], next_cursor=next_cursor)


@router.post(
    "/organisations/{organisation_id}/api-keys",
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key; the key is in this answer only",
    responses=problem_responses(401, 403, 404, 422),
)
async def create_api_key(
    organisation_id: uuid.UUID,
    admin: CurrentAdmin,
    pool: PoolDep,
    response: Response,
    body: ApiKeyCreate | None = None,
) -> ApiKeyCreated:
    body = body or ApiKeyCreate()
    created = await service.create_api_key(
        pool=pool,
        organisation_id=organisation_id,
        name=body.name,
        scopes=list(body.scopes),
        created_by=admin.account_id,
        actor=Actor.of(admin),
    )
    # The plaintext key must not linger in shared caches.
    response.headers["Cache-Control"] = "no-store"
    return ApiKeyCreated(**key_read(created.row).model_dump(), api_key=created.plaintext)


@router.get(
    "/organisations/{organisation_id}/api-keys",
    summary="List an organisation's API keys (never the keys themselves)",
    responses=problem_responses(401, 403, 404, 422),
)
async def list_api_keys(
    organisation_id: uuid.UUID, admin: CurrentAdmin, pool: PoolDep
) -> ApiKeyList:
    rows = await service.list_api_keys(pool=pool, organisation_id=organisation_id)
    return ApiKeyList(items=[key_read(row) for row in rows])


@router.delete(
    "/api-keys/{key_id}",
    summary="Revoke an API key; it stops working at once",
    responses=problem_responses(401, 403, 404, 422),
)
async def revoke_api_key(
    key_id: uuid.UUID, admin: CurrentAdmin, pool: PoolDep, credentials: CredentialsDep
) -> ApiKeyRead:
    return key_read(
        await service.revoke_api_key(
            pool=pool, credentials=credentials, key_id=key_id, actor=Actor.of(admin)
        )
    )
