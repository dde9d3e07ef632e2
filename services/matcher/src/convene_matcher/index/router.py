from __future__ import annotations

from fastapi import APIRouter

from convene_common.problems import problem_responses
from convene_matcher.dependencies import EvidenceDep, StateDep
from convene_matcher.index.schemas import IndexStatus, RebuildResult

router = APIRouter(prefix="/v1/index", tags=["index"])


@router.get("/status", responses=problem_responses(401, 503))
async def index_status(evidence: EvidenceDep, state: StateDep) -> IndexStatus:
    feed, task = state.feed, state.feed_task
    index = evidence.index
    return IndexStatus(
        model=index.model_name,
        dimension=index.dimension,
        kind=index.kind,
        last_seq=evidence.seq,
        head_seq=feed.state.head_seq if feed else None,
        lag=feed.lag if feed else None,
        items=index.count,
        tombstones=index.tombstones,
        citizens=len(evidence.store),
        last_snapshot_seq=evidence.last_snapshot_seq,
        feed_running=task is not None and not task.done(),
        feed_consecutive_errors=feed.state.consecutive_errors if feed else 0,
        feed_last_error=feed.state.last_error if feed else None,
        embed_cache_entries=evidence.embedder.memory_entries,
        texts_encoded=evidence.embedder.texts_encoded,
    )


@router.post("/rebuild", responses=problem_responses(401, 503))
async def rebuild_index(evidence: EvidenceDep) -> RebuildResult:
    """Builds a fresh index from the citizen store and swaps it in."""
    fresh = await evidence.rebuild()
    await evidence.save_snapshot()
    return RebuildResult(kind=fresh.kind, items=fresh.count, seq=fresh.seq)
