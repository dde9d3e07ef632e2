"""Admin curation forwarded to profiles, which owns roles, badge issuers and the feed."""

from __future__ import annotations

from convene_gateway.admin.schemas import BadgeIssuerCreate, CuratedRoleCreate
from convene_gateway.clients.profiles import ProfilesClient
from convene_gateway.clients.profiles_schemas import (
    BadgeIssuerRead,
    ChangePage,
    CuratedRoleRead,
    ItemList,
)


async def list_curated_roles(*, profiles: ProfilesClient) -> ItemList[CuratedRoleRead]:
    return await profiles.list_curated_roles()


async def create_curated_role(
    *, profiles: ProfilesClient, role: CuratedRoleCreate
) -> CuratedRoleRead:
    return await profiles.create_curated_role(role=role.model_dump(exclude_none=True))


async def list_badge_issuers(*, profiles: ProfilesClient) -> ItemList[BadgeIssuerRead]:
    return await profiles.list_badge_issuers()


async def create_badge_issuer(
    *, profiles: ProfilesClient, issuer: BadgeIssuerCreate
) -> BadgeIssuerRead:
    return await profiles.create_badge_issuer(issuer=issuer.model_dump(exclude_none=True))


async def list_changes(*, profiles: ProfilesClient, after: int, limit: int) -> ChangePage:
    return await profiles.list_changes(after=after, limit=limit)
