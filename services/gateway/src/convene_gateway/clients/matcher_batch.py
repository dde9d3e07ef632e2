"""The gateway's client for the matcher's routing batches (on the shared ServiceClient).

A batch routes every call then runs a solver with a time limit of up to 60 s, so its reads
get a longer timeout than routing one call. Only GETs are retried: a POST creates a batch.
"""

from __future__ import annotations

import uuid
from typing import Any

from convene_gateway.batch.schemas import BatchRead
from convene_gateway.clients.matcher import MatcherServiceClient

# Routing each call of a large batch, then the solver's own limit (at most 60 s).
BATCH_READ_TIMEOUT_SECONDS = 240.0


class MatcherBatchClient(MatcherServiceClient):
    minimum_read_timeout_seconds = BATCH_READ_TIMEOUT_SECONDS

    async def create_batch(self, *, batch: dict[str, Any]) -> BatchRead:
        return await self._post(BatchRead, "/v1/routing-batches", batch)

    async def get_batch(
        self, *, batch_id: uuid.UUID, public_body_id: uuid.UUID | None = None
    ) -> BatchRead:
        params = {"public_body_id": str(public_body_id)} if public_body_id is not None else None
        return await self._get(BatchRead, f"/v1/routing-batches/{batch_id}", params=params)
