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
from convene_gateway.auth.cache import LiveSession
from convene_gateway.auth.schemas import (
    MEMBER_SCOPES,
    AccountPrincipal,
    AdminPrincipal,
    CitizenPrincipal,
    MemberRole,
    PublicBodyPrincipal,
    StaffPrincipal,
)
from convene_gateway.auth.tokens import ROLE_SCOPES, TokenClaims
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
    description="Citizens, staff of public bodies and admins: POST /v1/auth/token with email "
    "and password (admins add the form field totp).",
)
api_key_scheme = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    scheme_name="ApiKey",
    description="Public bodies' systems: a key created for your organisation (cvk_...).",
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
    """A dependency for public-body routes: a live API key holding every scope given, or a
    staff member's bearer token whose role allows them. (The OpenAPI lists the API key
    scheme only: with both, schemathesis could not generate cases for some routes.)"""
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
                _, live = await service.session_from_token(
                    pool=pool,
                    settings=settings,
                    credentials=credentials,
                    token=token,
                    request_state=request.scope.setdefault("state", {}),
                )
                return _staff_public_body(live, needed)
            raise AuthenticationRequiredError(
                f"This route needs an API key in the {API_KEY_HEADER} header or a staff "
                "member's bearer token.",
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


def _member_role(live: LiveSession) -> MemberRole | None:
    if live.member_role == "manager":
        return "manager"
    return "officer" if live.member_role == "officer" else None


def _staff_public_body(live: LiveSession, needed: frozenset[str]) -> PublicBodyPrincipal:
    """A signed-in member acting for their organisation; valid bearer credentials of anyone
    else (citizens, admins) are the wrong kind: 403."""
    role = _member_role(live)
    if live.organisation_id is None or role is None:
        raise ForbiddenError("This route is for public bodies: an API key or a staff member.")
    granted = MEMBER_SCOPES[role]
    if needed - granted:
        raise InsufficientScopeError("Your role in the organisation does not allow this.")
    return PublicBodyPrincipal(
        organisation_id=live.organisation_id,
        api_key_id=None,
        scopes=granted,
        account_id=live.account_id,
        member_role=role,
    )


async def require_member(
    request: Request,
    token: BearerToken,
    pool: PoolDep,
    settings: SettingsDep,
    credentials: CredentialsDep,
) -> StaffPrincipal:
    """Any member of an organisation, signed in (a citizen who is also staff included)."""
    if token is None:
        raise AuthenticationRequiredError(
            "This route needs a staff member's bearer token.",
            challenge=service.BEARER_CHALLENGE,
        )
    claims, live = await service.session_from_token(
        pool=pool,
        settings=settings,
        credentials=credentials,
        token=token,
        request_state=request.scope.setdefault("state", {}),
    )
    role = _member_role(live)
    if live.organisation_id is None or role is None:
        raise ForbiddenError("This route is for staff of a public body.")
    return StaffPrincipal(
        account_id=claims.account_id,
        organisation_id=live.organisation_id,
        member_role=role,
        scopes=MEMBER_SCOPES[role],
    )


async def require_manager(
    member: Annotated[StaffPrincipal, Depends(require_member)],
) -> StaffPrincipal:
    if member.member_role != "manager":
        raise ForbiddenError("Only the organisation's managers may do this.")
    return member


async def require_session(
    request: Request,
    token: BearerToken,
    pool: PoolDep,
    settings: SettingsDep,
    credentials: CredentialsDep,
) -> tuple[TokenClaims, LiveSession]:
    """Any signed-in account's live session (citizens, staff, admins)."""
    if token is None:
        raise AuthenticationRequiredError(
            "This route needs a bearer token.", challenge=service.BEARER_CHALLENGE
        )
    return await service.session_from_token(
        pool=pool,
        settings=settings,
        credentials=credentials,
        token=token,
        request_state=request.scope.setdefault("state", {}),
    )


async def require_admin_or_manager(
    request: Request,
    token: BearerToken,
    pool: PoolDep,
    settings: SettingsDep,
    credentials: CredentialsDep,
) -> AdminPrincipal | StaffPrincipal:
    """An administrator, or a manager of an organisation (acting for it only)."""
    principal = await _account_from_bearer(request, token, pool, settings, credentials)
    if isinstance(principal, AdminPrincipal) and "admin" in principal.scopes:
        return principal
    if isinstance(principal, StaffPrincipal):
        if principal.member_role != "manager":
            raise ForbiddenError("Only the organisation's managers may do this.")
        return principal
    raise ForbiddenError("This route is for administrators and organisations' managers.")


CurrentCitizen = Annotated[CitizenPrincipal, Depends(require_citizen)]
CurrentMember = Annotated[StaffPrincipal, Depends(require_member)]
CurrentManager = Annotated[StaffPrincipal, Depends(require_manager)]
CurrentSession = Annotated[tuple[TokenClaims, LiveSession], Depends(require_session)]
CurrentAdmin = Annotated[AdminPrincipal, Depends(require_admin)]
CurrentAdminOrManager = Annotated[
    AdminPrincipal | StaffPrincipal, Depends(require_admin_or_manager)
]
