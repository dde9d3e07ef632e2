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
    RoleCreate,
    SkillCreate,
)
from convene_gateway.clients.profiles_schemas import (
    AffiliationRead,
    BadgeRead,
    CitizenRead,
    ItemList,
    RoleRead,
    SkillRead,
)
from convene_gateway.dependencies import HasherDep, PoolDep, ProfilesDep

# Every route here may also fail downstream: profiles unreachable (503), slow (504), broken (502).
DOWNSTREAM = (502, 503, 504)
AUTHED = (401, 403, 422, *DOWNSTREAM)

router = APIRouter(tags=["citizens"])


@router.post(
    "/v1/citizens",
    status_code=status.HTTP_201_CREATED,
    summary="Register as a citizen",
    responses=problem_responses(409, 413, 422, *DOWNSTREAM),
)
async def register(
    body: CitizenRegister, pool: PoolDep, hasher: HasherDep, profiles: ProfilesDep
) -> CitizenCreated:
    citizen = await accounts.register_citizen(
        pool=pool,
        hasher=hasher,
        profiles=profiles,
        email=str(body.email),
        password=body.password,
        display_name=body.display_name,
    )
    return CitizenCreated(id=citizen.id, email=citizen.email, display_name=citizen.display_name)


@router.get("/v1/me", summary="Your profile", responses=problem_responses(*AUTHED))
async def get_me(citizen: CurrentCitizen, profiles: ProfilesDep) -> CitizenRead:
    return await profiles.get_citizen(citizen_id=citizen.citizen_id)


@router.patch("/v1/me", summary="Change your profile", responses=problem_responses(413, *AUTHED))
async def update_me(
    body: CitizenUpdate, citizen: CurrentCitizen, profiles: ProfilesDep
) -> CitizenRead:
    return await profiles.update_citizen(citizen_id=citizen.citizen_id, changes=body.changes())


@router.get(
    "/v1/me/export",
    summary="Everything held about you",
    responses=problem_responses(*AUTHED),
)
async def export_me(
    citizen: CurrentCitizen, pool: PoolDep, profiles: ProfilesDep, response: Response
) -> CitizenExport:
    response.headers["Cache-Control"] = "no-store"
    return await service.export(pool=pool, profiles=profiles, citizen=citizen)


@router.delete(
    "/v1/me",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Erase your profile and account",
    responses=problem_responses(*AUTHED),
)
async def erase_me(citizen: CurrentCitizen, pool: PoolDep, profiles: ProfilesDep) -> None:
    await service.erase(pool=pool, profiles=profiles, citizen=citizen)


# -- skills ------------------------------------------------------------------------------
@router.post(
    "/v1/me/skills",
    status_code=status.HTTP_201_CREATED,
    summary="Add a skill",
    responses=problem_responses(409, 413, *AUTHED),
)
async def add_skill(body: SkillCreate, citizen: CurrentCitizen, profiles: ProfilesDep) -> SkillRead:
    return await profiles.add_skill(
        citizen_id=citizen.citizen_id, skill=body.model_dump(mode="json", exclude_none=True)
    )


@router.get("/v1/me/skills", summary="Your skills", responses=problem_responses(*AUTHED))
async def list_skills(citizen: CurrentCitizen, profiles: ProfilesDep) -> ItemList[SkillRead]:
    return await profiles.list_skills(citizen_id=citizen.citizen_id)


@router.delete(
    "/v1/me/skills/{skill_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a skill",
    responses=problem_responses(404, *AUTHED),
)
async def delete_skill(skill_id: uuid.UUID, citizen: CurrentCitizen, profiles: ProfilesDep) -> None:
    await profiles.delete_skill(citizen_id=citizen.citizen_id, skill_id=skill_id)


# -- roles (lived experience) ------------------------------------------------------------
@router.post(
    "/v1/me/roles",
    status_code=status.HTTP_201_CREATED,
    summary="Add a role (lived experience)",
    responses=problem_responses(409, 413, *AUTHED),
)
async def add_role(body: RoleCreate, citizen: CurrentCitizen, profiles: ProfilesDep) -> RoleRead:
    return await profiles.add_role(citizen_id=citizen.citizen_id, role=body.model_dump())


@router.get("/v1/me/roles", summary="Your roles", responses=problem_responses(*AUTHED))
async def list_roles(citizen: CurrentCitizen, profiles: ProfilesDep) -> ItemList[RoleRead]:
    return await profiles.list_roles(citizen_id=citizen.citizen_id)


@router.delete(
    "/v1/me/roles/{role_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a role",
    responses=problem_responses(404, *AUTHED),
)
async def delete_role(role_id: uuid.UUID, citizen: CurrentCitizen, profiles: ProfilesDep) -> None:
    await profiles.delete_role(citizen_id=citizen.citizen_id, role_id=role_id)


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
    return await profiles.add_affiliation(
        citizen_id=citizen.citizen_id, affiliation=body.model_dump()
    )


@router.get(
    "/v1/me/affiliations", summary="Your affiliations", responses=problem_responses(*AUTHED)
)
async def list_affiliations(
    citizen: CurrentCitizen, profiles: ProfilesDep
) -> ItemList[AffiliationRead]:
    return await profiles.list_affiliations(citizen_id=citizen.citizen_id)


@router.delete(
    "/v1/me/affiliations/{affiliation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an affiliation",
    responses=problem_responses(404, *AUTHED),
)
async def delete_affiliation(
    affiliation_id: uuid.UUID, citizen: CurrentCitizen, profiles: ProfilesDep
) -> None:
    await profiles.delete_affiliation(citizen_id=citizen.citizen_id, affiliation_id=affiliation_id)


# -- badges ----------------------------------------------------------------------------
@router.post(
    "/v1/me/badges",
    status_code=status.HTTP_201_CREATED,
    summary="Add an Open Badge (verified by profiles)",
    responses=problem_responses(409, 413, *AUTHED),
)
async def add_badge(body: BadgeCreate, citizen: CurrentCitizen, profiles: ProfilesDep) -> BadgeRead:
    return await profiles.add_badge(citizen_id=citizen.citizen_id, badge=body.payload())


@router.get("/v1/me/badges", summary="Your badges", responses=problem_responses(*AUTHED))
async def list_badges(citizen: CurrentCitizen, profiles: ProfilesDep) -> ItemList[BadgeRead]:
    return await profiles.list_badges(citizen_id=citizen.citizen_id)


@router.delete(
    "/v1/me/badges/{badge_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a badge",
    responses=problem_responses(404, *AUTHED),
)
async def delete_badge(badge_id: uuid.UUID, citizen: CurrentCitizen, profiles: ProfilesDep) -> None:
    await profiles.delete_badge(citizen_id=citizen.citizen_id, badge_id=badge_id)
