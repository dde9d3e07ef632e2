"""A typed client for profiles' GET /v1/changes."""

from __future__ import annotations

import httpx

from convene_common.internal_auth import INTERNAL_TOKEN_HEADER
from convene_common.logging import REQUEST_ID_HEADER, current_request_id
from convene_matcher.citizens.schemas import ChangePage


class ProfilesFeedClient:
    def __init__(self, http: httpx.AsyncClient, *, internal_token: str | None) -> None:
        self._http = http
        self._headers = {INTERNAL_TOKEN_HEADER: internal_token} if internal_token else {}

    async def fetch(self, *, after: int, limit: int, wait_seconds: float = 0) -> ChangePage:
        headers = dict(self._headers)
        request_id = current_request_id()
        if request_id:
            headers[REQUEST_ID_HEADER] = request_id
        response = await self._http.get(
            "/v1/changes",
            params={"after": after, "limit": limit, "wait_seconds": wait_seconds},
            headers=headers,
        )
        response.raise_for_status()
        return ChangePage.model_validate_json(response.content)
