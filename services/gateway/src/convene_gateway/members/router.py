"""Members and the signed-in member's organisation.

/v1/admin/organisations/{id}/members   admins: invite (typically the first manager), list
/v1/organisation...                    members of one organisation; managers run members
                                       and keys (officers get 403)
/v1/auth/join                          the emailed invitation token, a password, a name
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from convene_common.problems import problem_responses
from convene_gateway.audit.service import Actor
from convene_gateway.auth.dependencies import CurrentAdmin, CurrentManager, CurrentMember
from convene_gateway.dependencies import (
    CredentialsDep,
    HasherDep,
    MatcherDep,
    PoolDep,
    SettingsDep,
)
from convene_gateway.errors import NotFoundError
from convene_gateway.members import service
from convene_gateway.members.repository import MemberRow
from convene_gateway.members.schemas import (
    MemberInvite,
    MemberInvited,
    MemberJoin,
    MemberJoined,
    MemberList,
    MemberRead,
    MemberUpdate,
    MyOrganisationRead,
)
from convene_gateway.organisations import repository as organisations
from convene_gateway.organisations import service as organisation_service
from convene_gateway.organisations.router import key_read
from convene_gateway.organisations.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyRead,
)

router = APIRouter(tags=["members"])


def _member(row: MemberRow) -> MemberRead:
    return MemberRead.model_validate(row, from_attributes=True)


async def _invite(
    *,
    body: MemberInvite,
    actor: Actor,
    organisation_id: uuid.UUID,
    pool: PoolDep,
    matcher: MatcherDep,
    settings: SettingsDep,
) -> MemberInvited:
    expires_at = await service.invite(
        pool=pool,
        matcher=matcher,
        settings=settings,
        actor=actor,
        organisation_id=organisation_id,
        email=body.email,
        role=body.role,
    )
    return MemberInvited(
        email=body.email, role=body.role, organisation_id=organisation_id, expires_at=expires_at
    )


@router.post(
    "/v1/admin/organisations/{organisation_id}/members",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Invite a member (e.g. the first manager) by email",
    responses=problem_responses(401, 403, 404, 422),
)
async def admin_invite_member(
    organisation_id: uuid.UUID,
    body: MemberInvite,
    admin: CurrentAdmin,
    pool: PoolDep,
    matcher: MatcherDep,
    settings: SettingsDep,
) -> MemberInvited:
    return await _invite(
        body=body,
        actor=Actor.of(admin),
        organisation_id=organisation_id,
        pool=pool,
        matcher=matcher,
        settings=settings,
    )


@router.get(
    "/v1/admin/organisations/{organisation_id}/members",
    summary="An organisation's members",
    responses=problem_responses(401, 403, 404, 422),
)
async def admin_list_members(
    organisation_id: uuid.UUID, admin: CurrentAdmin, pool: PoolDep
) -> MemberList:
    rows = await service.list_members(pool=pool, organisation_id=organisation_id)
    return MemberList(items=[_member(row) for row in rows])


@router.post(
    "/v1/auth/join",
    status_code=status.HTTP_201_CREATED,
    summary="Join an organisation with the emailed invitation token",
    tags=["auth"],
    responses=problem_responses(400, 409, 422),
)
async def join(
    body: MemberJoin, pool: PoolDep, hasher: HasherDep, credentials: CredentialsDep
) -> MemberJoined:
    """Unknown, expired, used and forged tokens get one answer: 400 invalid-token. Then sign
    in with POST /v1/auth/token."""
    row = await service.join(
        pool=pool,
        hasher=hasher,
        credentials=credentials,
        token=body.token,
        password=body.password,
        display_name=body.display_name,
    )
    return MemberJoined(**_member(row).model_dump(), organisation_id=row.organisation_id)


@router.get(
    "/v1/organisation",
    summary="Your organisation and your role in it",
    responses=problem_responses(401, 403, 422),
)
async def my_organisation(member: CurrentMember, pool: PoolDep) -> MyOrganisationRead:
    async with pool.acquire() as connection:
        organisation = await organisations.get_organisation(
            connection, organisation_id=member.organisation_id
        )
    if organisation is None:
        raise NotFoundError("The organisation does not exist.")
    return MyOrganisationRead(
        id=organisation.id,
        name=organisation.name,
        kind=organisation.kind,
        account_id=member.account_id,
        role=member.member_role,
    )


@router.post(
    "/v1/organisation/members",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Invite an officer or another manager by email (managers)",
    responses=problem_responses(401, 403, 422),
)
async def invite_member(
    body: MemberInvite,
    manager: CurrentManager,
    pool: PoolDep,
    matcher: MatcherDep,
    settings: SettingsDep,
) -> MemberInvited:
    return await _invite(
        body=body,
        actor=Actor.of(manager),
        organisation_id=manager.organisation_id,
        pool=pool,
        matcher=matcher,
        settings=settings,
    )


@router.get(
    "/v1/organisation/members",
    summary="Your organisation's members (managers)",
    responses=problem_responses(401, 403, 422),
)
async def list_members(manager: CurrentManager, pool: PoolDep) -> MemberList:
    rows = await service.list_members(pool=pool, organisation_id=manager.organisation_id)
    return MemberList(items=[_member(row) for row in rows])


@router.patch(
    "/v1/organisation/members/{account_id}",
    summary="Change a member's role (managers; the last manager stays one)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def change_member(
    account_id: uuid.UUID,
    body: MemberUpdate,
    manager: CurrentManager,
    pool: PoolDep,
    credentials: CredentialsDep,
) -> MemberRead:
    row = await service.change_role(
        pool=pool,
        credentials=credentials,
        actor=Actor.of(manager),
        organisation_id=manager.organisation_id,
        account_id=account_id,
        role=body.role,
    )
    return _member(row)


@router.delete(
    "/v1/organisation/members/{account_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a member: their sessions end at once (managers; not the last manager)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def remove_member(
    account_id: uuid.UUID, manager: CurrentManager, pool: PoolDep, credentials: CredentialsDep
) -> Response:
    await service.remove(
        pool=pool,
        credentials=credentials,
        actor=Actor.of(manager),
        organisation_id=manager.organisation_id,
        account_id=account_id,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/v1/organisation/api-keys",
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key for your organisation's systems; the key is in this answer only",
    responses=problem_responses(401, 403, 422),
)
async def create_api_key(
    manager: CurrentManager, pool: PoolDep, response: Response, body: ApiKeyCreate | None = None
) -> ApiKeyCreated:
    body = body or ApiKeyCreate()
    created = await organisation_service.create_api_key(
        pool=pool,
        organisation_id=manager.organisation_id,
        name=body.name,
        scopes=list(body.scopes),
        created_by=manager.account_id,
        actor=Actor.of(manager),
    )
    response.headers["Cache-Control"] = "no-store"
    return ApiKeyCreated(**key_read(created.row).model_dump(), api_key=created.plaintext)


@router.get(
    "/v1/organisation/api-keys",
    summary="Your organisation's API keys (never the keys themselves)",
    responses=problem_responses(401, 403, 422),
)
async def list_api_keys(manager: CurrentManager, pool: PoolDep) -> ApiKeyList:
    rows = await organisation_service.list_api_keys(
        pool=pool, organisation_id=manager.organisation_id
    )
    return ApiKeyList(items=[key_read(row) for row in rows])


@router.delete(
    "/v1/organisation/api-keys/{key_id}",
    summary="Revoke one of your organisation's API keys; it stops working at once",
    responses=problem_responses(401, 403, 404, 422),
)
async def revoke_api_key(
    key_id: uuid.UUID, manager: CurrentManager, pool: PoolDep, credentials: CredentialsDep
) -> ApiKeyRead:
    row = await organisation_service.revoke_api_key(
        pool=pool,
        credentials=credentials,
        key_id=key_id,
        actor=Actor.of(manager),
        organisation_id=manager.organisation_id,
    )
    return key_read(row)
