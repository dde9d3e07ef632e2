"""The typed client the gateway calls profiles with.

Every call is bounded by explicit timeouts. Connection failures are retried a few times, but
only for idempotent methods (GET, PUT, DELETE): a POST or PATCH may have reached profiles.
Errors map to problems: profiles' 4xx pass through; unreachable → 503, timeout → 504,
5xx or a malformed answer → 502.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from convene_common.internal_auth import INTERNAL_TOKEN_HEADER
from convene_common.logging import REQUEST_ID_HEADER, current_request_id
from convene_common.problems import PROBLEM_TYPE_BASE
from convene_gateway.clients.profiles_schemas import (
    AffiliationRead,
    BadgeIssuerRead,
    BadgeRead,
    ChangePage,
    CitizenRead,
    CuratedRoleRead,
    ItemList,
    RoleRead,
    SkillRead,
)
from convene_gateway.config import GatewaySettings
from convene_gateway.errors import (
    DownstreamError,
    DownstreamProblemError,
    DownstreamTimeoutError,
    DownstreamUnavailableError,
)

logger = logging.getLogger("convene.gateway.profiles_client")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
ModelT = TypeVar("ModelT", bound=BaseModel)
SERVICE = "profiles"


def downstream_timeout(settings: GatewaySettings, *, read: float | None = None) -> httpx.Timeout:
    return httpx.Timeout(
        connect=settings.downstream_connect_timeout_seconds,
        read=read or settings.downstream_read_timeout_seconds,
        write=settings.downstream_write_timeout_seconds,
        pool=settings.downstream_pool_timeout_seconds,
    )


class ProfilesClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        retries: int,
        retry_backoff_seconds: float,
        retry_after_seconds: int,
        deadline_seconds: float,
    ) -> None:
        self._http = http
        self._deadline = deadline_seconds
        self._retries = retries
        self._backoff = retry_backoff_seconds
        self._retry_after = retry_after_seconds

    @classmethod
    def from_settings(
        cls, settings: GatewaySettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> ProfilesClient:
        headers = {"Accept": "application/json"}
        if settings.internal_token is not None:
            headers[INTERNAL_TOKEN_HEADER] = settings.internal_token.get_secret_value()
        http = httpx.AsyncClient(
            base_url=settings.profiles_url,
            timeout=downstream_timeout(settings),
            headers=headers,
            transport=transport,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            follow_redirects=False,
        )
        return cls(
            http,
            retries=settings.downstream_retries,
            retry_backoff_seconds=settings.downstream_retry_backoff_seconds,
            retry_after_seconds=settings.downstream_retry_after_seconds,
            deadline_seconds=settings.downstream_deadline_seconds,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- transport and error mapping ---------------------------------------------------
    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        headers: dict[str, str] = {}
        request_id = current_request_id()
        if request_id:
            headers[REQUEST_ID_HEADER] = request_id
        attempts = 1 + (self._retries if method in IDEMPOTENT_METHODS else 0)
        extra: dict[str, Any] = {}
        if timeout is not None:
            extra["timeout"] = timeout
        for attempt in range(1, attempts + 1):
            try:
                async with asyncio.timeout(self._deadline):
                    response = await self._http.request(
                        method, path, json=json, params=params, headers=headers, **extra
                    )
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing reached profiles: safe to try again for idempotent methods.
                if attempt < attempts:
                    await asyncio.sleep(self._backoff * attempt)
                    continue
                logger.warning(
                    "downstream unreachable",
                    extra={"downstream": SERVICE, "error_type": type(exc).__name__},
                )
                raise DownstreamUnavailableError(
                    "The profiles service is unavailable; try again shortly.",
                    retry_after_seconds=self._retry_after,
                ) from exc
            except (httpx.TimeoutException, TimeoutError) as exc:
                logger.warning(
                    "downstream timeout",
                    extra={"downstream": SERVICE, "error_type": type(exc).__name__},
                )
                raise DownstreamTimeoutError(
                    "The profiles service did not answer in time; try again shortly.",
                    retry_after_seconds=self._retry_after,
                ) from exc
            except httpx.TransportError as exc:
                logger.warning(
                    "downstream transport error",
                    extra={"downstream": SERVICE, "error_type": type(exc).__name__},
                )
                raise DownstreamUnavailableError(
                    "The profiles service is unavailable; try again shortly.",
                    retry_after_seconds=self._retry_after,
                ) from exc
            self._raise_for_status(response)
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _raise_for_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        if status in (503, 504):
            logger.warning("downstream %s", status, extra={"downstream": SERVICE})
            raise DownstreamUnavailableError(
                "The profiles service is unavailable; try again shortly.",
                retry_after_seconds=self._retry_after,
            )
        if status >= 500 or status in (401, 403, 407):
            # 401/403 from profiles mean the gateway itself is misconfigured (internal token).
            logger.error("downstream error", extra={"downstream": SERVICE, "status": status})
            raise DownstreamError("The profiles service failed to answer this request.")
        detail, slug, problem_extra = _problem_parts(response)
        raise DownstreamProblemError(detail, status=status, slug=slug, extra=problem_extra)

    @staticmethod
    def _parse(model: type[ModelT], response: httpx.Response) -> ModelT:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            logger.error(
                "downstream answer malformed",
                extra={"downstream": SERVICE, "model": model.__name__},
            )
            raise DownstreamError("The profiles service gave an unexpected answer.") from exc

    async def _get(self, model: type[ModelT], path: str, **kwargs: Any) -> ModelT:
        return self._parse(model, await self._send("GET", path, **kwargs))

    async def _post(self, model: type[ModelT], path: str, body: Any) -> ModelT:
        return self._parse(model, await self._send("POST", path, json=body))

    async def _delete(self, path: str) -> None:
        await self._send("DELETE", path)

    # -- health ------------------------------------------------------------------------
    async def ping(self) -> str:
        try:
            async with asyncio.timeout(2.0):
                response = await self._http.get("/livez", timeout=httpx.Timeout(1.0))
        except (httpx.HTTPError, TimeoutError) as exc:
            return f"unreachable: {type(exc).__name__}"
        return "ok" if response.status_code == 200 else f"status {response.status_code}"

    # -- citizens ----------------------------------------------------------------------
    async def create_citizen(
        self, *, citizen_id: uuid.UUID, email: str, display_name: str
    ) -> CitizenRead:
        body = {"id": str(citizen_id), "email": email, "display_name": display_name}
        return await self._post(CitizenRead, "/v1/citizens", body)

    async def get_citizen(self, *, citizen_id: uuid.UUID) -> CitizenRead:
        return await self._get(CitizenRead, f"/v1/citizens/{citizen_id}")

    async def update_citizen(
        self, *, citizen_id: uuid.UUID, changes: dict[str, Any]
    ) -> CitizenRead:
        response = await self._send("PATCH", f"/v1/citizens/{citizen_id}", json=changes)
        return self._parse(CitizenRead, response)

    async def erase_citizen(self, *, citizen_id: uuid.UUID) -> None:
        await self._delete(f"/v1/citizens/{citizen_id}")

    async def export_citizen(self, *, citizen_id: uuid.UUID) -> dict[str, Any]:
        response = await self._send("GET", f"/v1/citizens/{citizen_id}/export")
        try:
            exported = response.json()
        except ValueError as exc:
            raise DownstreamError("The profiles service gave an unexpected answer.") from exc
        if not isinstance(exported, dict):
            raise DownstreamError("The profiles service gave an unexpected answer.")
        return exported

    # -- a citizen's collections -------------------------------------------------------
    async def add_skill(self, *, citizen_id: uuid.UUID, skill: dict[str, Any]) -> SkillRead:
        return await self._post(SkillRead, f"/v1/citizens/{citizen_id}/skills", skill)

    async def list_skills(self, *, citizen_id: uuid.UUID) -> ItemList[SkillRead]:
        return await self._get(ItemList[SkillRead], f"/v1/citizens/{citizen_id}/skills")

    async def delete_skill(self, *, citizen_id: uuid.UUID, skill_id: uuid.UUID) -> None:
        await self._delete(f"/v1/citizens/{citizen_id}/skills/{skill_id}")

    async def add_role(self, *, citizen_id: uuid.UUID, role: dict[str, Any]) -> RoleRead:
        return await self._post(RoleRead, f"/v1/citizens/{citizen_id}/roles", role)

    async def list_roles(self, *, citizen_id: uuid.UUID) -> ItemList[RoleRead]:
        return await self._get(ItemList[RoleRead], f"/v1/citizens/{citizen_id}/roles")

    async def delete_role(self, *, citizen_id: uuid.UUID, role_id: uuid.UUID) -> None:
        await self._delete(f"/v1/citizens/{citizen_id}/roles/{role_id}")

    async def add_affiliation(
        self, *, citizen_id: uuid.UUID, affiliation: dict[str, Any]
    ) -> AffiliationRead:
        path = f"/v1/citizens/{citizen_id}/affiliations"
        return await self._post(AffiliationRead, path, affiliation)

    async def list_affiliations(self, *, citizen_id: uuid.UUID) -> ItemList[AffiliationRead]:
        path = f"/v1/citizens/{citizen_id}/affiliations"
        return await self._get(ItemList[AffiliationRead], path)

    async def delete_affiliation(self, *, citizen_id: uuid.UUID, affiliation_id: uuid.UUID) -> None:
        await self._delete(f"/v1/citizens/{citizen_id}/affiliations/{affiliation_id}")

    async def add_badge(self, *, citizen_id: uuid.UUID, badge: dict[str, Any]) -> BadgeRead:
        return await self._post(BadgeRead, f"/v1/citizens/{citizen_id}/badges", badge)

    async def list_badges(self, *, citizen_id: uuid.UUID) -> ItemList[BadgeRead]:
        return await self._get(ItemList[BadgeRead], f"/v1/citizens/{citizen_id}/badges")

    async def delete_badge(self, *, citizen_id: uuid.UUID, badge_id: uuid.UUID) -> None:
        await self._delete(f"/v1/citizens/{citizen_id}/badges/{badge_id}")

    # -- curation and the change feed (admin) -------------------------------------------
    async def list_curated_roles(self) -> ItemList[CuratedRoleRead]:
        return await self._get(ItemList[CuratedRoleRead], "/v1/roles")

    async def create_curated_role(self, *, role: dict[str, Any]) -> CuratedRoleRead:
        return await self._post(CuratedRoleRead, "/v1/roles", role)

    async def list_badge_issuers(self) -> ItemList[BadgeIssuerRead]:
        return await self._get(ItemList[BadgeIssuerRead], "/v1/badge-issuers")

    async def create_badge_issuer(self, *, issuer: dict[str, Any]) -> BadgeIssuerRead:
        return await self._post(BadgeIssuerRead, "/v1/badge-issuers", issuer)

    async def list_changes(self, *, after: int, limit: int) -> ChangePage:
        return await self._get(ChangePage, "/v1/changes", params={"after": after, "limit": limit})


def _problem_parts(response: httpx.Response) -> tuple[str, str, dict[str, Any]]:
    """detail, slug and validation errors of a downstream problem, with safe fallbacks."""
    detail = f"The profiles service refused the request ({response.status_code})."
    slug = "downstream-rejected"
    extra: dict[str, Any] = {}
    try:
        body = response.json()
    except ValueError:
        return detail, slug, extra
    if isinstance(body, dict):
        if isinstance(body.get("detail"), str):
            detail = body["detail"]
        problem_type = body.get("type")
        if isinstance(problem_type, str) and problem_type.startswith(PROBLEM_TYPE_BASE):
            slug = problem_type.removeprefix(PROBLEM_TYPE_BASE)
        if isinstance(body.get("errors"), list):
            extra["errors"] = body["errors"]
    return detail, slug, extra
