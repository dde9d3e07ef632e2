"""Typed calls to the matcher's invitation routes, over the MatcherClient's connection and
error mapping (composition: one httpx pool, one place for timeouts and problem mapping).
POSTs are not retried (ServiceClient); a retried invite is the body's to make with its
Idempotency-Key."""

from __future__ import annotations

import uuid
from typing import Any

from convene_gateway.clients.matcher import IDEMPOTENCY_KEY_HEADER, MatcherClient
from convene_gateway.contributions.schemas import ContributionRead, MatcherBodyContributionList
from convene_gateway.invitations.schemas import (
    BodyStats,
    CitizenInvitationDetail,
    CitizenInvitationPage,
    CloseResult,
    DeadLetterPage,
    ExposureFigures,
    MatcherInvitation,
    MatcherInvitationBatch,
    MatcherInvitationList,
    RatingRead,
    WebhookEndpointRead,
)


class MatcherInvitationsClient:
    def __init__(self, matcher: MatcherClient) -> None:
        self._m = matcher

    @staticmethod
    def _body(public_body_id: uuid.UUID) -> dict[str, str]:
        return {"public_body_id": str(public_body_id)}

    # -- public bodies ---------------------------------------------------------------------
    async def invite(
        self,
        *,
        call_id: uuid.UUID,
        public_body_id: uuid.UUID,
        body: dict[str, Any],
        idempotency_key: str | None,
    ) -> MatcherInvitationBatch:
        headers = {IDEMPOTENCY_KEY_HEADER: idempotency_key} if idempotency_key else None
        return await self._m._post(
            MatcherInvitationBatch,
            f"/v1/calls/{call_id}/invitations",
            body,
            params=self._body(public_body_id),
            headers=headers,
        )

    async def list_for_call(
        self, *, call_id: uuid.UUID, public_body_id: uuid.UUID
    ) -> MatcherInvitationList:
        return await self._m._get(
            MatcherInvitationList,
            f"/v1/calls/{call_id}/invitations",
            params=self._body(public_body_id),
        )

    async def withdraw(
        self, *, call_id: uuid.UUID, public_body_id: uuid.UUID, invitation_id: uuid.UUID
    ) -> MatcherInvitation:
        return await self._m._post(
            MatcherInvitation,
            f"/v1/calls/{call_id}/invitations/{invitation_id}/withdraw",
            None,
            params=self._body(public_body_id),
        )

    async def rate(
        self, *, call_id: uuid.UUID, public_body_id: uuid.UUID, ref: str, body: dict[str, Any]
    ) -> RatingRead:
        return await self._m._post(
            RatingRead,
            f"/v1/calls/{call_id}/contributions/{ref}/rating",
            body,
            params=self._body(public_body_id),
        )

    async def close(
        self, *, call_id: uuid.UUID, public_body_id: uuid.UUID, body: dict[str, Any]
    ) -> CloseResult:
        return await self._m._post(
            CloseResult, f"/v1/calls/{call_id}/close", body, params=self._body(public_body_id)
        )

    async def stats(self, *, public_body_id: uuid.UUID) -> BodyStats:
        return await self._m._get(BodyStats, f"/v1/organisations/{public_body_id}/invitation-stats")

    async def set_webhook(
        self, *, public_body_id: uuid.UUID, body: dict[str, Any]
    ) -> WebhookEndpointRead:
        response = await self._m._send(
            "PUT", f"/v1/organisations/{public_body_id}/webhook", json=body
        )
        return self._m._parse(WebhookEndpointRead, response)

    # -- citizens --------------------------------------------------------------------------
    async def citizen_list(
        self, *, citizen_id: uuid.UUID, limit: int, cursor: str | None
    ) -> CitizenInvitationPage:
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        return await self._m._get(
            CitizenInvitationPage, f"/v1/citizens/{citizen_id}/invitations", params=params
        )

    async def citizen_get(
        self, *, citizen_id: uuid.UUID, invitation_id: uuid.UUID
    ) -> CitizenInvitationDetail:
        return await self._m._get(
            CitizenInvitationDetail, f"/v1/citizens/{citizen_id}/invitations/{invitation_id}"
        )

    async def citizen_answer(
        self,
        *,
        citizen_id: uuid.UUID,
        invitation_id: uuid.UUID,
        action: str,
        body: dict[str, Any] | None,
    ) -> CitizenInvitationDetail:
        return await self._m._post(
            CitizenInvitationDetail,
            f"/v1/citizens/{citizen_id}/invitations/{invitation_id}/{action}",
            body,
        )

    # -- admins ----------------------------------------------------------------------------
    async def exposure(self, *, days: int) -> ExposureFigures:
        return await self._m._get(ExposureFigures, "/v1/exposure", params={"days": days})

    async def dead_letters(self, *, limit: int, cursor: str | None) -> DeadLetterPage:
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        return await self._m._get(DeadLetterPage, "/v1/notifications/dead", params=params)

    # -- contributions -------------------------------------------------------------------
    @staticmethod
    def _contribution_path(citizen_id: uuid.UUID, invitation_id: uuid.UUID) -> str:
        return f"/v1/citizens/{citizen_id}/invitations/{invitation_id}/contribution"

    async def submit_contribution(
        self, *, citizen_id: uuid.UUID, invitation_id: uuid.UUID, body: dict[str, Any]
    ) -> ContributionRead:
        return await self._m._post(
            ContributionRead, self._contribution_path(citizen_id, invitation_id), body
        )

    async def get_contribution(
        self, *, citizen_id: uuid.UUID, invitation_id: uuid.UUID
    ) -> ContributionRead:
        return await self._m._get(
            ContributionRead, self._contribution_path(citizen_id, invitation_id)
        )

    async def withdraw_contribution(
        self, *, citizen_id: uuid.UUID, invitation_id: uuid.UUID
    ) -> None:
        await self._m._delete(self._contribution_path(citizen_id, invitation_id))

    async def list_contributions(
        self, *, call_id: uuid.UUID, public_body_id: uuid.UUID
    ) -> MatcherBodyContributionList:
        return await self._m._get(
            MatcherBodyContributionList,
            f"/v1/calls/{call_id}/contributions",
            params=self._body(public_body_id),
        )
