from __future__ import annotations

import re
import uuid
from uuid import UUID

from convene_common.db import Pool
from convene_profiles.config import ProfilesSettings
from convene_profiles.errors import CitizenNotFoundError, NotFoundError, RoleExistsError
from convene_profiles.profile_state import citizen_role_read, load_states
from convene_profiles.roles import repository
from convene_profiles.roles.schemas import (
    CitizenRoleCreate,
    CitizenRoleList,
    CitizenRoleRead,
    RoleCreate,
    RoleList,
    RoleRead,
)
from convene_profiles.unit_of_work import citizen_change

_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


async def list_roles(pool: Pool) -> RoleList:
    async with pool.acquire() as connection:
        rows = await repository.list_roles(connection)
    return RoleList(items=[RoleRead(**dict(row)) for row in rows])


async def create_role(pool: Pool, *, data: RoleCreate) -> RoleRead:
    async with pool.acquire() as connection:
        row = await repository.insert_role(
            connection, slug=data.slug, label=data.label, description=data.description
        )
    if row is None:
        raise RoleExistsError(f"A curated role with slug '{data.slug}' already exists.")
    return RoleRead(**dict(row))


async def add_citizen_role(
    pool: Pool, *, citizen_id: UUID, data: CitizenRoleCreate, settings: ProfilesSettings
) -> CitizenRoleRead:
    """A curated slug links to the curated role; anything else is kept as free text."""
    async with citizen_change(pool, citizen_id=citizen_id, settings=settings) as connection:
        curated = (
            await repository.get_role(connection, slug=data.role)
            if _SLUG.match(data.role)
            else None
        )
        row = await repository.insert_citizen_role(
            connection,
            citizen_role_id=uuid.uuid4(),
            citizen_id=citizen_id,
            role_slug=curated["slug"] if curated else None,
            label=curated["label"] if curated else data.role,
            visible_to_bodies=data.visible_to_bodies,
        )
    return citizen_role_read(row)


async def list_citizen_roles(pool: Pool, *, citizen_id: UUID) -> CitizenRoleList:
    async with pool.acquire() as connection:
        states = await load_states(connection, citizen_ids=[citizen_id])
    if citizen_id not in states:
        raise CitizenNotFoundError(f"No citizen with id {citizen_id}.")
    return CitizenRoleList(items=[citizen_role_read(r) for r in states[citizen_id].roles])


async def remove_citizen_role(
    pool: Pool, *, citizen_id: UUID, citizen_role_id: UUID, settings: ProfilesSettings
) -> None:
    async with citizen_change(pool, citizen_id=citizen_id, settings=settings) as connection:
        deleted = await repository.delete_citizen_role(
            connection, citizen_id=citizen_id, citizen_role_id=citizen_role_id
        )
        if not deleted:
            raise NotFoundError("This citizen has no role with that id.", slug="role-not-found")
