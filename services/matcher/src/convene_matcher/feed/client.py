"""A typed client for profiles' GET /v1/changes."""

from __future__ import annotations

import logging
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from convene_common.internal_auth import INTERNAL_TOKEN_HEADER
from convene_common.logging import REQUEST_ID_HEADER, current_request_id
from convene_matcher.citizens.schemas import Change, ChangePage

logger = logging.getLogger("convene.matcher.feed")


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
        return parse_page(response.content)


def parse_page(content: bytes) -> ChangePage:
    """The page, each change validated on its own: a change that does not parse is logged
    and reported in ``unparseable_seqs`` (the envelope itself must parse)."""
    envelope = _Envelope.model_validate_json(content)
    items: list[Change] = []
    unparseable: list[int] = []
    for raw in envelope.items:
        try:
            items.append(Change.model_validate(raw))
        except ValidationError as exc:
            seq = raw.get("seq") if isinstance(raw, dict) else None
            if not isinstance(seq, int) or isinstance(seq, bool):
                raise  # no seq to move past: the page as a whole is broken
            logger.error(
                "change does not parse: skipped",
                extra={"seq": seq, "errors": exc.error_count()},
            )
            unparseable.append(seq)
    return ChangePage(
        items=items,
        last_seq=envelope.last_seq,
        head_seq=envelope.head_seq,
        unparseable_seqs=unparseable,
    )


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")

    items: list[Any]
    last_seq: int | None = None
    head_seq: int | None = None
