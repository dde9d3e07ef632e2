"""The signed-in citizen's profile, always addressed by the principal's own citizen id.

Object-level rule: every call to profiles carries the caller's citizen id in its path, so
another citizen's skill, role, affiliation or badge id is simply not found (404) there.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from convene_common.db import Pool
from convene_gateway.accounts import service as accounts
from convene_gateway.auth.cache import CredentialCache
from convene_gateway.auth.schemas import CitizenPrincipal
from convene_gateway.citizens.schemas import (
    AccountExport,
    AffiliationCreate,
    BadgeCreate,
    CitizenExport,
    CitizenUpdate,
    ExperienceCreate,
    ExperienceUpdate,
    RoleCreate,
    SkillCreate,
)
from convene_gateway.clients.matcher import MatcherClient
from convene_gateway.clients.matcher_privacy import export_citizen as matcher_export
from convene_gateway.clients.profiles import ProfilesClient
from convene_gateway.clients.profiles_schemas import (
    AffiliationRead,
    BadgeRead,
    CitizenRead,
    ExperienceRead,
    ItemList,
    RoleRead,
    SkillRead,
)
from convene_gateway.errors import DownstreamTimeoutError, DownstreamUnavailableError


async def export(
    *, pool: Pool, profiles: ProfilesClient, matcher: MatcherClient, citizen: CitizenPrincipal
) -> CitizenExport:
    """The account, the profile and what the matcher holds (invitations, answers, hours,
    exposure, evidence shown). Never silently partial: when the matcher cannot be reached,
    ``matcher`` is null and ``incomplete`` names it, so the citizen knows to ask again (the
    account and profile parts are still theirs to have)."""
    account = await accounts.get_account(pool=pool, account_id=citizen.account_id)
    profile = await profiles.export_citizen(citizen_id=citizen.citizen_id)
    matched: dict[str, Any] | None = None
    incomplete: list[str] = []
    try:
        matched = (await matcher_export(matcher, citizen_id=citizen.citizen_id)).model_dump(
            mode="json"
        )
    except (DownstreamUnavailableError, DownstreamTimeoutError):
        incomplete.append("matcher")
    return CitizenExport(
        account=AccountExport(
            id=account.id,
            kind=account.kind,
            email=account.email,
            citizen_id=account.citizen_id,
            created_at=account.created_at,
            disabled_at=account.disabled_at,
        ),
        profile=profile,
        matcher=matched,
        incomplete=incomplete,
        exported_at=datetime.now(UTC),
    )


async def erase(
    *,
    pool: Pool,
    profiles: ProfilesClient,
    credentials: CredentialCache,
    citizen: CitizenPrincipal,
) -> None:
    await accounts.erase_citizen(
        pool=pool,
        profiles=profiles,
        credentials=credentials,
        account_id=citizen.account_id,
        citizen_id=citizen.citizen_id,
    )


async def get_profile(*, profiles: ProfilesClient, citizen: CitizenPrincipal) -> CitizenRead:
    return await profiles.get_citizen(citizen_id=citizen.citizen_id)


async def update_profile(
    *, profiles: ProfilesClient, citizen: CitizenPrincipal, update: CitizenUpdate
) -> CitizenRead:
    return await profiles.update_citizen(citizen_id=citizen.citizen_id, changes=update.changes())


async def add_skill(
    *, profiles: ProfilesClient, citizen: CitizenPrincipal, skill: SkillCreate
) -> SkillRead:
    return await profiles.add_skill(
        citizen_id=citizen.citizen_id, skill=skill.model_dump(mode="json", exclude_none=True)
    )


async def list_skills(
    *, profiles: ProfilesClient, citizen: CitizenPrincipal
) -> ItemList[SkillRead]:
    return await profiles.list_skills(citizen_id=citizen.citizen_id)


async def delete_skill(
    *, profiles: ProfilesClient, citizen: CitizenPrincipal, skill_id: uuid.UUID
) -> None:
    await profiles.delete_skill(citizen_id=citizen.citizen_id, skill_id=skill_id)


async def add_role(
    *, profiles: ProfilesClient, citizen: CitizenPrincipal, role: RoleCreate
) -> RoleRead:
    return await profiles.add_role(citizen_id=citizen.citizen_id, role=role.model_dump())


async def list_roles(*, profiles: ProfilesClient, citizen: CitizenPrincipal) -> ItemList[RoleRead]:
    return await profiles.list_roles(citizen_id=citizen.citizen_id)


async def delete_role(
    *, profiles: ProfilesClient, citizen: CitizenPrincipal, role_id: uuid.UUID
) -> None:
    await profiles.delete_role(citizen_id=citizen.citizen_id, role_id=role_id)


async def add_experience(
    *, profiles: ProfilesClient, citizen: CitizenPrincipal, entry: ExperienceCreate
) -> ExperienceRead:
    return await profiles.add_experience(citizen_id=citizen.citizen_id, entry=entry.payload())


async def list_experience(
    *, profiles: ProfilesClient, citizen: CitizenPrincipal
) -> ItemList[ExperienceRead]:
    return await profiles.list_experience(citizen_id=citizen.citizen_id)


async def update_experience(
    *,
    profiles: ProfilesClient,
    citizen: CitizenPrincipal,
    entry_id: uuid.UUID,
    update: ExperienceUpdate,
) -> ExperienceRead:
    return await profiles.update_experience(
        citizen_id=citizen.citizen_id, entry_id=entry_id, changes=update.changes()
    )


async def delete_experience(
    *, profiles: ProfilesClient, citizen: CitizenPrincipal, entry_id: uuid.UUID
) -> None:
    await profiles.delete_experience(citizen_id=citizen.citizen_id, entry_id=entry_id)


async def add_affiliation(
    *, profiles: ProfilesClient, citizen: CitizenPrincipal, affiliation: AffiliationCreate
) -> AffiliationRead:
    return await profiles.add_affiliation(
        citizen_id=citizen.citizen_id, affiliation=affiliation.model_dump()
    )


async def list_affiliations(
    *, profiles: ProfilesClient, citizen: CitizenPrincipal
) -> ItemList[AffiliationRead]:
    return await profiles.list_affiliations(citizen_id=citizen.citizen_id)


async def delete_affiliation(
    *, profiles: ProfilesClient, citizen: CitizenPrincipal, affiliation_id: uuid.UUID
) -> None:
    await profiles.delete_affiliation(citizen_id=citizen.citizen_id, affiliation_id=affiliation_id)


async def add_badge(
    *, profiles: ProfilesClient, citizen: CitizenPrincipal, badge: BadgeCreate
) -> BadgeRead:
    return await profiles.add_badge(citizen_id=citizen.citizen_id, badge=badge.payload())


async def list_badges(
    *, profiles: ProfilesClient, citizen: CitizenPrincipal
) -> ItemList[BadgeRead]:
    return await profiles.list_badges(citizen_id=citizen.citizen_id)


async def delete_badge(
    *, profiles: ProfilesClient, citizen: CitizenPrincipal, badge_id: uuid.UUID
) -> None:
    await profiles.delete_badge(citizen_id=citizen.citizen_id, badge_id=badge_id)
