"""GET /v1/roles: the curated lived-experience roles (what a call's perspectives and a
citizen's roles are best named with). Any signed-in account or API key may read them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from convene_common.problems import problem_responses
from convene_gateway.auth import service as auth
from convene_gateway.auth.dependencies import API_KEY_CHALLENGE, API_KEY_HEADER
from convene_gateway.dependencies import CredentialsDep, PoolDep, ProfilesDep, SettingsDep
from convene_gateway.errors import AuthenticationRequiredError, InvalidCredentialsError
from convene_gateway.organisations import service as organisations

router = APIRouter(tags=["roles"])


class RoleEntry(BaseModel):
    slug: str
    label: str
    description: str | None = None
    aliases: list[str] = Field(
        default_factory=list,
        description="Other names of the same role (admin-curated; matching treats them as "
        "one role). Profiles stores none yet, so this is empty for now.",
    )


class RoleCatalogue(BaseModel):
    items: list[RoleEntry]


@router.get(
    "/v1/roles",
    summary="The curated roles (for staff, citizens and bodies' systems)",
    responses=problem_responses(401, 422, 502, 503, 504),
)
async def list_roles(
    request: Request,
    pool: PoolDep,
    settings: SettingsDep,
    credentials: CredentialsDep,
    profiles: ProfilesDep,
) -> RoleCatalogue:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    api_key = request.headers.get(API_KEY_HEADER)
    if scheme.lower() == "bearer" and token:
        await auth.session_from_token(
            pool=pool,
            settings=settings,
            credentials=credentials,
            token=token,
            request_state=request.scope.setdefault("state", {}),
        )
    elif api_key:
        if (
            await organisations.authenticate_api_key(
                pool=pool, credentials=credentials, presented=api_key
            )
            is None
        ):
            raise InvalidCredentialsError(
                "The API key is invalid or has been revoked.", challenge=API_KEY_CHALLENGE
            )
    else:
        raise AuthenticationRequiredError(
            "This route needs a bearer token or an API key.", challenge=auth.BEARER_CHALLENGE
        )
    curated = await profiles.list_curated_roles()
    return RoleCatalogue(
        items=[
            RoleEntry(slug=role.slug, label=role.label, description=role.description)
            for role in curated.items
        ]
    )
