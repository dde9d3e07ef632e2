"""Citizen routes: registration, and /v1/me/* for the signed-in citizen."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from convene_common.problems import problem_responses
from convene_gateway.accounts import service as accounts
from convene_gateway.auth.dependencies import CurrentCitizen
from convene_gateway.citizens import service
from convene_gateway.citizens.schemas import (
    AffiliationCreate,
    BadgeCreate,
    CitizenCreated,
    CitizenExport,
    CitizenRegister,
    CitizenUpdate,
    ExperienceCreate,
    ExperienceUpdate,
    RoleCreate,
    SkillCreate,
)
from convene_gateway.clients.matcher_evidence import HeldEvidence, held_evidence
from convene_gateway.clients.profiles_schemas import (
    AffiliationRead,
    BadgeRead,
    CitizenRead,
    ExperienceRead,
    ItemList,
    RoleRead,
    SkillRead,
)
from convene_gateway.dependencies import (
    CredentialsDep,
    HasherDep,
    MatcherDep,
    PoolDep,
    ProfilesDep,
    SettingsDep,
)

# Every route here may also fail downstream: profiles unreachable (503), slow (504), broken (502).
DOWNSTREAM = (502, 503, 504)
AUTHED = (401, 403, 422, *DOWNSTREAM)

router = APIRouter(tags=["citizens"])


@router.post(
    "/v1/citizens",
    status_code=status.HTTP_201_CREATED,
    summary="Register as a citizen",
    responses=problem_responses(413, 422, *DOWNSTREAM),
)
async def register(
    body: CitizenRegister,
    pool: PoolDep,
    hasher: HasherDep,
    profiles: ProfilesDep,
    matcher: MatcherDep,
    settings: SettingsDep,
) -> CitizenCreated:
    """The answer is the same whether or not the address already has an account (its owner
    is emailed instead); the new account is unverified until the emailed link is followed."""
    citizen = await accounts.register_citizen(
        pool=pool,
        hasher=hasher,
        profiles=profiles,
        matcher=matcher,
        settings=settings,
        email=body.email,
        password=body.password,
        display_name=body.display_name,
    )
    return CitizenCreated(id=citizen.id, email=citizen.email, display_name=citizen.display_name)


@router.get("/v1/me", summary="Your profile", responses=problem_responses(*AUTHED))
async def get_me(citizen: CurrentCitizen, profiles: ProfilesDep) -> CitizenRead:
    return await service.get_profile(profiles=profiles, citizen=citizen)


@router.patch("/v1/me", summary="Change your profile", responses=problem_responses(413, *AUTHED))
async def update_me(
    body: CitizenUpdate, citizen: CurrentCitizen, profiles: ProfilesDep
) -> CitizenRead:
    return await service.update_profile(profiles=profiles, citizen=citizen, update=body)


@router.get(
    "/v1/me/evidence",
    summary="What we use to match you: every evidence item as the matcher holds it",
    responses=problem_responses(*AUTHED),
)
async def my_evidence(citizen: CurrentCitizen, matcher: MatcherDep) -> HeldEvidence:
    """Your private items too (marked private): only public bodies are kept from them."""
    return await held_evidence(matcher, citizen_id=citizen.citizen_id)


@router.get(
    "/v1/me/export",
    summary="Everything held about you",
    responses=problem_responses(*AUTHED),
)
async def export_me(
    citizen: CurrentCitizen,
    pool: PoolDep,
    profiles: ProfilesDep,
    matcher: MatcherDep,
    response: Response,
) -> CitizenExport:
    response.headers["Cache-Control"] = "no-store"
    return await service.export(pool=pool, profiles=profiles, matcher=matcher, citizen=citizen)


@router.delete(
    "/v1/me",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Erase your profile and account",
    responses=problem_responses(*AUTHED),
)
async def erase_me(
    citizen: CurrentCitizen, pool: PoolDep, profiles: ProfilesDep, credentials: CredentialsDep
) -> None:
    await service.erase(pool=pool, profiles=profiles, credentials=credentials, citizen=citizen)


# -- skills ------------------------------------------------------------------------------
@router.post(
    "/v1/me/skills",
    status_code=status.HTTP_201_CREATED,
    summary="Add a skill",
    responses=problem_responses(409, 413, *AUTHED),
)
async def add_skill(body: SkillCreate, citizen: CurrentCitizen, profiles: ProfilesDep) -> SkillRead:
    return await service.add_skill(profiles=profiles, citizen=citizen, skill=body)


@router.get("/v1/me/skills", summary="Your skills", responses=problem_responses(*AUTHED))
async def list_skills(citizen: CurrentCitizen, profiles: ProfilesDep) -> ItemList[SkillRead]:
    return await service.list_skills(profiles=profiles, citizen=citizen)


@router.delete(
    "/v1/me/skills/{skill_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a skill",
    responses=problem_responses(404, *AUTHED),
)
async def delete_skill(skill_id: uuid.UUID, citizen: CurrentCitizen, profiles: ProfilesDep) -> None:
    await service.delete_skill(profiles=profiles, citizen=citizen, skill_id=skill_id)


# -- roles (lived experience) ------------------------------------------------------------
@router.post(
    "/v1/me/roles",
    status_code=status.HTTP_201_CREATED,
    summary="Add a role (lived experience)",
    responses=problem_responses(409, 413, *AUTHED),
)
async def add_role(body: RoleCreate, citizen: CurrentCitizen, profiles: ProfilesDep) -> RoleRead:
    return await service.add_role(profiles=profiles, citizen=citizen, role=body)


@router.get("/v1/me/roles", summary="Your roles", responses=problem_responses(*AUTHED))
async def list_roles(citizen: CurrentCitizen, profiles: ProfilesDep) -> ItemList[RoleRead]:
    return await service.list_roles(profiles=profiles, citizen=citizen)


@router.delete(
    "/v1/me/roles/{role_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a role",
    responses=problem_responses(404, *AUTHED),
)
async def delete_role(role_id: uuid.UUID, citizen: CurrentCitizen, profiles: ProfilesDep) -> None:
    await service.delete_role(profiles=profiles, citizen=citizen, role_id=role_id)


# -- experience in your own words ----------------------------------------------------------
@router.post(
    "/v1/me/experience",
    status_code=status.HTTP_201_CREATED,
    summary="Add an experience entry in your own words",
    responses=problem_responses(404, 409, 413, *AUTHED),
)
async def add_experience(
    body: ExperienceCreate, citizen: CurrentCitizen, profiles: ProfilesDep
) -> ExperienceRead:
    return await service.add_experience(profiles=profiles, citizen=citizen, entry=body)


@router.get(
    "/v1/me/experience", summary="Your experience entries", responses=problem_responses(*AUTHED)
)
async def list_experience(
    citizen: CurrentCitizen, profiles: ProfilesDep
) -> ItemList[ExperienceRead]:
    return await service.list_experience(profiles=profiles, citizen=citizen)


@router.patch(
    "/v1/me/experience/{entry_id}",
    summary="Change an experience entry",
    responses=problem_responses(400, 404, 413, *AUTHED),
)
async def update_experience(
    entry_id: uuid.UUID, body: ExperienceUpdate, citizen: CurrentCitizen, profiles: ProfilesDep
) -> ExperienceRead:
    return await service.update_experience(
        profiles=profiles, citizen=citizen, entry_id=entry_id, update=body
    )


@router.delete(
    "/v1/me/experience/{entry_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an experience entry",
    responses=problem_responses(404, *AUTHED),
)
async def delete_experience(
    entry_id: uuid.UUID, citizen: CurrentCitizen, profiles: ProfilesDep
) -> None:
    await service.delete_experience(profiles=profiles, citizen=citizen, entry_id=entry_id)


# -- affiliations and declared interests ---------------------------------------------------
@router.post(
    "/v1/me/affiliations",
    status_code=status.HTTP_201_CREATED,
    summary="Declare an affiliation or interest",
    responses=problem_responses(409, 413, *AUTHED),
)
async def add_affiliation(
    body: AffiliationCreate, citizen: CurrentCitizen, profiles: ProfilesDep
) -> AffiliationRead:
    return await service.add_affiliation(profiles=profiles, citizen=citizen, affiliation=body)


@router.get(
    "/v1/me/affiliations", summary="Your affiliations", responses=problem_responses(*AUTHED)
)
async def list_affiliations(
    citizen: CurrentCitizen, profiles: ProfilesDep
) -> ItemList[AffiliationRead]:
    return await service.list_affiliations(profiles=profiles, citizen=citizen)


@router.delete(
    "/v1/me/affiliations/{affiliation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an affiliation",
    responses=problem_responses(404, *AUTHED),
)
async def delete_affiliation(
    affiliation_id: uuid.UUID, citizen: CurrentCitizen, profiles: ProfilesDep
) -> None:
    await service.delete_affiliation(
        profiles=profiles, citizen=citizen, affiliation_id=affiliation_id
    )


# -- badges ----------------------------------------------------------------------------
@router.post(
    "/v1/me/badges",
    status_code=status.HTTP_201_CREATED,
    summary="Add an Open Badge (verified by profiles)",
    responses=problem_responses(409, 413, *AUTHED),
)
async def add_badge(body: BadgeCreate, citizen: CurrentCitizen, profiles: ProfilesDep) -> BadgeRead:
    return await service.add_badge(profiles=profiles, citizen=citizen, badge=body)


@router.get("/v1/me/badges", summary="Your badges", responses=problem_responses(*AUTHED))
async def list_badges(citizen: CurrentCitizen, profiles: ProfilesDep) -> ItemList[BadgeRead]:
    return await service.list_badges(profiles=profiles, citizen=citizen)


@router.delete(
    "/v1/me/badges/{badge_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a badge",
    responses=problem_responses(404, *AUTHED),
)
async def delete_badge(badge_id: uuid.UUID, citizen: CurrentCitizen, profiles: ProfilesDep) -> None:
    await service.delete_badge(profiles=profiles, citizen=citizen, badge_id=badge_id)
