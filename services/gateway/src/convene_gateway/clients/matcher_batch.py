"""The gateway's client for the matcher's routing batches (on the shared ServiceClient).

A batch routes every call then runs a solver with a time limit of up to 60 s, so its reads
get a longer timeout than routing one call. Only GETs are retried: a POST creates a batch.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from convene_gateway.batch.schemas import BatchRead
from convene_gateway.clients.base import ServiceClient, downstream_http, downstream_timeout
from convene_gateway.config import GatewaySettings

# Routing each call of a large batch, then the solver's own limit (at most 60 s).
BATCH_READ_TIMEOUT_SECONDS = 240.0


class MatcherBatchClient(ServiceClient):
    service = "matcher"
    retry_methods = frozenset({"GET", "HEAD"})

    @classmethod
    def from_settings(
        cls, settings: GatewaySettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> MatcherBatchClient:
        read = max(settings.matcher_read_timeout_seconds, BATCH_READ_TIMEOUT_SECONDS)
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
            deadline_seconds=max(settings.downstream_deadline_seconds, read),
        )

    async def create_batch(self, *, batch: dict[str, Any]) -> BatchRead:
        return await self._post(BatchRead, "/v1/routing-batches", batch)

    async def get_batch(
        self, *, batch_id: uuid.UUID, public_body_id: uuid.UUID | None = None
    ) -> BatchRead:
        params = {"public_body_id": str(public_body_id)} if public_body_id is not None else None
        return await self._get(BatchRead, f"/v1/routing-batches/{batch_id}", params=params)
