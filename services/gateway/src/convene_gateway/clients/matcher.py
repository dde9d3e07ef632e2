"""The typed client the gateway calls the matcher with.

Shares ServiceClient's machinery with the profiles client (timeouts, deadline, error mapping,
X-Request-ID and X-Internal-Token). Routing a call embeds text and runs a panel solver, so
reads may take longer than profiles' (matcher_read_timeout_seconds). Only GETs are retried on
connection errors: a POST may have reached the matcher (a retried create is the public
body's to make, with its Idempotency-Key).
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, Self

import httpx

from convene_gateway.clients.base import ServiceClient, downstream_http, downstream_timeout
from convene_gateway.clients.matcher_schemas import (
    AccountEmail,
    AffinityResult,
    CallCancelledRead,
    CallPage,
    CallRead,
    EmailQueued,
    IndexStatus,
    MatchResult,
    RebuildResult,
)
from convene_gateway.config import GatewaySettings

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"


class MatcherServiceClient(ServiceClient):
    """What every client of the matcher shares: its URL, timeouts, deadline and retries."""

    service = "matcher"
    retry_methods = frozenset({"GET", "HEAD"})
    # A client whose calls run longer (e.g. routing batches) raises its read timeout floor.
    minimum_read_timeout_seconds: ClassVar[float] = 0.0

    @classmethod
    def from_settings(
        cls, settings: GatewaySettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> Self:
        read = max(settings.matcher_read_timeout_seconds, cls.minimum_read_timeout_seconds)
        http = downstream_http(
            settings,
            base_url=settings.matcher_url,
            timeout=downstream_timeout(settings, read=read),
            transport=transport,
        )
        return cls(
            http,
            retries=settings.downstream_retries,
            retry_backoff_seconds=settings.downstream_retry_backoff_seconds,
            retry_after_seconds=settings.downstream_retry_after_seconds,
            # The whole-call deadline must leave room for a full read timeout.
            deadline_seconds=max(settings.downstream_deadline_seconds, read),
        )


class MatcherClient(MatcherServiceClient):
    """Calls, matching, affinity and the index."""

    # -- calls -------------------------------------------------------------------------
    async def create_call(
        self, *, call: dict[str, Any], idempotency_key: str | None = None
    ) -> CallRead:
        headers = {IDEMPOTENCY_KEY_HEADER: idempotency_key} if idempotency_key else None
        return await self._post(CallRead, "/v1/calls", call, headers=headers)

    async def get_call(self, *, call_id: uuid.UUID, public_body_id: uuid.UUID) -> CallRead:
        params = {"public_body_id": str(public_body_id)}
        return await self._get(CallRead, f"/v1/calls/{call_id}", params=params)

    async def list_calls(
        self,
        *,
        public_body_id: uuid.UUID,
        limit: int,
        cursor: str | None,
        status: str | None = None,
        q: str | None = None,
    ) -> CallPage:
        params: dict[str, Any] = {"public_body_id": str(public_body_id), "limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        if status is not None:
            params["status"] = status
        if q is not None:
            params["q"] = q
        return await self._get(CallPage, "/v1/calls", params=params)

    async def update_call(
        self, *, call_id: uuid.UUID, public_body_id: uuid.UUID, changes: dict[str, Any]
    ) -> CallRead:
        params = {"public_body_id": str(public_body_id)}
        response = await self._send("PATCH", f"/v1/calls/{call_id}", json=changes, params=params)
        return self._parse(CallRead, response)

    async def cancel_call(
        self, *, call_id: uuid.UUID, public_body_id: uuid.UUID, reason: str
    ) -> CallCancelledRead:
        params = {"public_body_id": str(public_body_id)}
        return await self._post(
            CallCancelledRead, f"/v1/calls/{call_id}/cancel", {"reason": reason}, params=params
        )

    async def last_match(self, *, call_id: uuid.UUID, public_body_id: uuid.UUID) -> MatchResult:
        params = {"public_body_id": str(public_body_id)}
        return await self._get(MatchResult, f"/v1/calls/{call_id}/match", params=params)

    async def match_call(
        self, *, call_id: uuid.UUID, public_body_id: uuid.UUID, seed: int | None = None
    ) -> MatchResult:
        body = {"seed": seed} if seed is not None else None
        params = {"public_body_id": str(public_body_id)}
        return await self._post(MatchResult, f"/v1/calls/{call_id}/match", body, params=params)

    # -- account emails (the outbox sends them) -----------------------------------------
    async def queue_email(self, *, email: AccountEmail) -> EmailQueued:
        """Idempotent by email.idempotency_key, so a retry after a lost answer is safe."""
        return await self._post(
            EmailQueued, "/v1/notifications/emails", email.model_dump(mode="json")
        )

    # -- admin -------------------------------------------------------------------------
    async def affinity(self, *, request: dict[str, Any]) -> AffinityResult:
        return await self._post(AffinityResult, "/v1/affinity", request)

    async def index_status(self) -> IndexStatus:
        return await self._get(IndexStatus, "/v1/index/status")

    async def rebuild_index(self) -> RebuildResult:
        return await self._post(RebuildResult, "/v1/index/rebuild", None)
