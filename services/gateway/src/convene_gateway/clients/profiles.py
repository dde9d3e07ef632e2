"""The typed client the gateway calls profiles with.

Every call is bounded by explicit timeouts. Connection failures are retried a few times, but
only for idempotent methods (GET, PUT, DELETE): a POST or PATCH may have reached profiles.
Errors map to problems: profiles' 4xx pass through; unreachable → 503, timeout → 504,
5xx or a malformed answer → 502.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from convene_gateway.clients.base import (
    IDEMPOTENT_METHODS,
    ServiceClient,
    downstream_http,
    downstream_timeout,
)
from convene_gateway.clients.profiles_schemas import (
    AffiliationRead,
    AnswerRead,
    AnswersImportedRead,
    BadgeIssuerRead,
    BadgeRead,
    ChangePage,
    CitizenImportsRead,
    CitizenRead,
    CuratedRoleRead,
    ExperienceRead,
    ImportAccepted,
    ImportDecisionRead,
    ImportRead,
    ItemList,
    RoleRead,
    SkillRead,
)
from convene_gateway.config import GatewaySettings
from convene_gateway.errors import DownstreamError

__all__ = ["IDEMPOTENT_METHODS", "ProfilesClient", "downstream_timeout"]

SERVICE = "profiles"


class ProfilesClient(ServiceClient):
    service = SERVICE

    @classmethod
    def from_settings(
        cls, settings: GatewaySettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> ProfilesClient:
        http = downstream_http(
            settings,
            base_url=settings.profiles_url,
            timeout=downstream_timeout(settings),
            transport=transport,
        )
        client = cls(
            http,
            retries=settings.downstream_retries,
            retry_backoff_seconds=settings.downstream_retry_backoff_seconds,
            retry_after_seconds=settings.downstream_retry_after_seconds,
            deadline_seconds=settings.downstream_deadline_seconds,
        )
        client._upload_seconds = settings.upload_timeout_seconds
        return client

    _upload_seconds: float = 120.0

    # -- citizens ----------------------------------------------------------------------
    async def create_citizen(
        self, *, citizen_id: uuid.UUID, email: str, display_name: str, email_verified: bool
    ) -> CitizenRead:
        body = {
            "id": str(citizen_id),
            "email": email,
            "display_name": display_name,
            "email_verified": email_verified,
        }
        return await self._post(CitizenRead, "/v1/citizens", body)

    async def set_email_verified(
        self, *, citizen_id: uuid.UUID, verified: bool, email: str | None
    ) -> None:
        """Idempotent (a PUT), so safe to repeat after a lost answer."""
        body: dict[str, Any] = {"verified": verified}
        if email is not None:
            body["email"] = email
        await self._send("PUT", f"/v1/citizens/{citizen_id}/email-verification", json=body)

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

    async def add_experience(
        self, *, citizen_id: uuid.UUID, entry: dict[str, Any]
    ) -> ExperienceRead:
        return await self._post(ExperienceRead, f"/v1/citizens/{citizen_id}/experience", entry)

    async def list_experience(self, *, citizen_id: uuid.UUID) -> ItemList[ExperienceRead]:
        path = f"/v1/citizens/{citizen_id}/experience"
        return await self._get(ItemList[ExperienceRead], path)

    async def update_experience(
        self, *, citizen_id: uuid.UUID, entry_id: uuid.UUID, changes: dict[str, Any]
    ) -> ExperienceRead:
        path = f"/v1/citizens/{citizen_id}/experience/{entry_id}"
        response = await self._send("PATCH", path, json=changes)
        return self._parse(ExperienceRead, response)

    async def delete_experience(self, *, citizen_id: uuid.UUID, entry_id: uuid.UUID) -> None:
        await self._delete(f"/v1/citizens/{citizen_id}/experience/{entry_id}")

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

    # -- imports of past responses; uploaded answers ------------------------------------
    def _upload_limits(self) -> dict[str, Any]:
        seconds = self._upload_seconds
        return {"timeout": httpx.Timeout(seconds), "deadline_seconds": seconds}

    async def submit_import(
        self,
        *,
        content: bytes,
        file_format: str,
        source_body_id: uuid.UUID | None,
        requested_by: str,
    ) -> ImportAccepted:
        params: dict[str, Any] = {"format": file_format, "requested_by": requested_by}
        if source_body_id is not None:
            params["source_body_id"] = str(source_body_id)
        response = await self._send(
            "POST",
            "/v1/imports",
            content=content,
            params=params,
            headers={"Content-Type": "application/octet-stream"},
            **self._upload_limits(),
        )
        return self._parse(ImportAccepted, response)

    async def get_import(
        self, *, import_id: uuid.UUID, source_body_id: uuid.UUID | None
    ) -> ImportRead:
        params = {"source_body_id": str(source_body_id)} if source_body_id else None
        return await self._get(ImportRead, f"/v1/imports/{import_id}", params=params)

    async def citizen_imports(self, *, citizen_id: uuid.UUID) -> CitizenImportsRead:
        return await self._get(CitizenImportsRead, f"/v1/citizens/{citizen_id}/imports")

    async def decide_imports(
        self, *, citizen_id: uuid.UUID, confirm: bool, sources: list[str] | None
    ) -> ImportDecisionRead:
        verb = "confirm" if confirm else "decline"
        path = f"/v1/citizens/{citizen_id}/imports/{verb}"
        return await self._post(ImportDecisionRead, path, {"sources": sources})

    async def import_answers(self, *, citizen_id: uuid.UUID, content: bytes) -> AnswersImportedRead:
        response = await self._send(
            "POST",
            "/v1/answers-imports",
            content=content,
            params={"citizen_id": str(citizen_id)},
            headers={"Content-Type": "application/octet-stream"},
            **self._upload_limits(),
        )
        return self._parse(AnswersImportedRead, response)

    async def list_answers(self, *, citizen_id: uuid.UUID) -> ItemList[AnswerRead]:
        return await self._get(ItemList[AnswerRead], f"/v1/citizens/{citizen_id}/answers")

    async def delete_answers(self, *, citizen_id: uuid.UUID) -> None:
        await self._delete(f"/v1/citizens/{citizen_id}/answers")

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
