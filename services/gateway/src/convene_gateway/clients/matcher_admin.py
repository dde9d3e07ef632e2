"""The gateway's client for the matcher's admin APIs (matching configurations, evaluations).

A separate client on the shared ServiceClient base (the call-routing MatcherClient is
another's): same timeouts, whole-call deadline, error mapping and internal headers. Only GETs
are retried: every POST here changes state (a create, an activation, a job).
"""

from __future__ import annotations

import uuid
from typing import Any

from convene_gateway.admin_matching.schemas import (
    ActivationList,
    ConfigList,
    ConfigRead,
    EvaluationRead,
    PreviewResult,
)
from convene_gateway.clients.matcher import MatcherServiceClient


class MatcherAdminClient(MatcherServiceClient):
    # -- matching configurations -------------------------------------------------------
    async def list_configs(self, *, limit: int, cursor: str | None) -> ConfigList:
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        return await self._get(ConfigList, "/v1/matching-configs", params=params)

    async def get_active_config(self) -> ConfigRead:
        return await self._get(ConfigRead, "/v1/matching-configs/active")

    async def get_config(self, *, config_id: int) -> ConfigRead:
        return await self._get(ConfigRead, f"/v1/matching-configs/{config_id}")

    async def create_config(
        self, *, settings: dict[str, Any], note: str, created_by: str
    ) -> ConfigRead:
        body = {"settings": settings, "note": note, "created_by": created_by}
        return await self._post(ConfigRead, "/v1/matching-configs", body)

    async def activate_config(self, *, config_id: int, activated_by: str) -> ConfigRead:
        body = {"activated_by": activated_by}
        return await self._post(ConfigRead, f"/v1/matching-configs/{config_id}/activate", body)

    async def rollback_config(self, *, activated_by: str) -> ConfigRead:
        body = {"activated_by": activated_by}
        return await self._post(ConfigRead, "/v1/matching-configs/rollback", body)

    async def list_activations(self, *, limit: int, cursor: str | None) -> ActivationList:
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        return await self._get(ActivationList, "/v1/matching-configs/activations", params=params)

    async def preview_config(self, *, config_id: int, call_id: uuid.UUID) -> PreviewResult:
        body = {"call_id": str(call_id)}
        return await self._post(PreviewResult, f"/v1/matching-configs/{config_id}/preview", body)

    # -- evaluations -------------------------------------------------------------------
    async def start_evaluation(self, *, evaluation: dict[str, Any]) -> EvaluationRead:
        return await self._post(EvaluationRead, "/v1/evaluations", evaluation)

    async def get_evaluation(self, *, job_id: uuid.UUID) -> EvaluationRead:
        return await self._get(EvaluationRead, f"/v1/evaluations/{job_id}")

    async def cancel_evaluation(self, *, job_id: uuid.UUID) -> EvaluationRead:
        return await self._post(EvaluationRead, f"/v1/evaluations/{job_id}/cancel", None)
