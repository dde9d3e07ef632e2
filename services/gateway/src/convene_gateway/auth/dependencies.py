"""Principal dependencies for every route of the suite.

    @router.get("/v1/me")
    async def me(citizen: CurrentCitizen) -> ...

    @router.post("/v1/calls")
    async def post_call(body: CallCreate, body_principal: PublicBody = Depends(
        require_public_body("calls:write"))) -> ...

Missing or invalid credentials → 401 with WWW-Authenticate; valid credentials of the wrong
kind or without the scope → 403. Object-level checks (another citizen's object → 404) belong
to the route's service, which acts only on the principal's own ids.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from convene_gateway.auth import service
from convene_gateway.auth.schemas import (
    AccountPrincipal,
    AdminPrincipal,
    CitizenPrincipal,
    PublicBodyPrincipal,
)
from convene_gateway.auth.tokens import ROLE_SCOPES
from convene_gateway.dependencies import CredentialsDep, PoolDep, SettingsDep
from convene_gateway.errors import (
    AuthenticationRequiredError,
    ForbiddenError,
    InsufficientScopeError,
    InvalidCredentialsError,
)
from convene_gateway.organisations import service as organisations

API_KEY_HEADER = "X-API-Key"
API_KEY_CHALLENGE = f'APIKey realm="convene", header="{API_KEY_HEADER}"'

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/v1/auth/token",
    auto_error=False,
    scopes={
        "me:read": "Read your own profile",
        "me:write": "Change your own profile",
        "admin": "Administer Convene",
    },
    scheme_name="BearerToken",
    description="Citizens and admins: POST /v1/auth/token with email and password.",
)
api_key_scheme = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    scheme_name="ApiKey",
    description="Public bodies: a key an admin created for your organisation (cvk_...).",
)

BearerToken = Annotated[str | None, Depends(oauth2_scheme)]
ApiKey = Annotated[str | None, Depends(api_key_scheme)]


async def _account_from_bearer(
    request: Request,
    token: str | None,
    pool: PoolDep,
    settings: SettingsDep,
    credentials: CredentialsDep,
) -> AccountPrincipal:
    if token is None:
        presented_key = request.headers.get(API_KEY_HEADER)
        if presented_key:
            # Credentials of the other kind: 403 when they are valid, 401 when not.
            if await organisations.authenticate_api_key(
                pool=pool, credentials=credentials, presented=presented_key
            ):
                raise ForbiddenError("API keys cannot use this route; it needs a bearer token.")
            raise InvalidCredentialsError(
                "The API key is invalid or has been revoked.", challenge=API_KEY_CHALLENGE
            )
        raise AuthenticationRequiredError(
            "This route needs a bearer token.", challenge=service.BEARER_CHALLENGE
        )
    return await service.principal_from_token(
        pool=pool,
        settings=settings,
        credentials=credentials,
        token=token,
        request_state=request.scope.setdefault("state", {}),
    )


async def require_citizen(
    request: Request,
    token: BearerToken,
    pool: PoolDep,
    settings: SettingsDep,
    credentials: CredentialsDep,
) -> CitizenPrincipal:
    principal = await _account_from_bearer(request, token, pool, settings, credentials)
    if not isinstance(principal, CitizenPrincipal):
        raise ForbiddenError("This route is for citizens.")
    if not set(ROLE_SCOPES["citizen"]) <= principal.scopes:
        raise InsufficientScopeError("The token lacks the scope this route needs.")
    return principal


async def require_admin(
    request: Request,
    token: BearerToken,
    pool: PoolDep,
    settings: SettingsDep,
    credentials: CredentialsDep,
) -> AdminPrincipal:
    principal = await _account_from_bearer(request, token, pool, settings, credentials)
    if not isinstance(principal, AdminPrincipal) or "admin" not in principal.scopes:
        raise ForbiddenError("This route is for administrators.")
    return principal


def require_public_body(
    *scopes: str,
) -> Callable[
    [Request, ApiKey, PoolDep, SettingsDep, CredentialsDep], Awaitable[PublicBodyPrincipal]
]:
    """A dependency for public-body routes: a live API key holding every scope given."""
    needed = frozenset(scopes)

    async def dependency(
        request: Request,
        api_key: ApiKey,
        pool: PoolDep,
        settings: SettingsDep,
        credentials: CredentialsDep,
    ) -> PublicBodyPrincipal:
        if not api_key:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() == "bearer" and token:
                # Credentials of the other kind: 403 when they are valid, 401 when not.
                await service.principal_from_token(
                    pool=pool,
                    settings=settings,
                    credentials=credentials,
                    token=token,
                    request_state=request.scope.setdefault("state", {}),
                )
                raise ForbiddenError("This route is for public bodies; it needs an API key.")
            raise AuthenticationRequiredError(
                f"This route needs an API key in the {API_KEY_HEADER} header.",
                challenge=API_KEY_CHALLENGE,
            )
        row = await organisations.authenticate_api_key(
            pool=pool, credentials=credentials, presented=api_key
        )
        if row is None:
            raise InvalidCredentialsError(
                "The API key is invalid or has been revoked.", challenge=API_KEY_CHALLENGE
            )
        granted = frozenset(row.scopes)
        missing = needed - granted
        if missing:
            raise InsufficientScopeError(
                f"The API key lacks the scope(s): {', '.join(sorted(missing))}."
            )
        return PublicBodyPrincipal(
            organisation_id=row.organisation_id, api_key_id=row.id, scopes=granted
        )

    return dependency


CurrentCitizen = Annotated[CitizenPrincipal, Depends(require_citizen)]
CurrentAdmin = Annotated[AdminPrincipal, Depends(require_admin)]
