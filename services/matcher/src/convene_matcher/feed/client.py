"""Parsing a page of profiles' GET /v1/changes (fetched by ``clients.profiles``)."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from convene_matcher.citizens.schemas import Change, ChangePage

logger = logging.getLogger("convene.matcher.feed")


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
