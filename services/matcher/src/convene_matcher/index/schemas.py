from __future__ import annotations

from pydantic import BaseModel


class IndexStatus(BaseModel):
    model: str
    dimension: int
    kind: str
    last_seq: int
    head_seq: int | None
    lag: int | None
    items: int
    tombstones: int
    citizens: int
    last_snapshot_seq: int | None
    feed_running: bool
    feed_consecutive_errors: int
    feed_last_error: str | None
    embed_cache_entries: int
    texts_encoded: int


class RebuildResult(BaseModel):
    kind: str
    items: int
    seq: int
