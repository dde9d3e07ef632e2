"""Routing a call: embed -> ANN search -> group per citizen (+ wanted-role holders) -> hard
filters -> weighted score -> panel under quotas and caps -> explanations; stored in
``call_match`` so invitations can resolve the pseudonymous refs.

Blocking work runs off the event loop: embedding (the embedder's worker), FAISS (the
evidence service's search limiter) and ranking + panel selection (this module's limiter, one
thread: CP-SAT is given one worker). Store reads happen on the loop with no await between
``gather`` and the copies it makes, and erased citizens are dropped at the end as well.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import asyncpg
import numpy as np

from convene_matcher.calls import service as calls_service
from convene_matcher.index.service import EvidenceService
from convene_matcher.routing import engine, repository
from convene_matcher.routing.dependencies import RoutingState
from convene_matcher.routing.refs import candidate_ref
from convene_matcher.routing.schemas import (
    Adjustments,
    CandidateRead,
    EvidenceRead,
    MatchRequest,
    MatchResult,
    MatchStats,
    PanelMember,
    Unmet,
)
from convene_matcher.scoring import Hit, MatchingConfig

logger = logging.getLogger("convene.matcher.routing")

_selection_limiter = anyio.CapacityLimiter(1)


def month_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def match_call(
    *,
    pool: asyncpg.Pool[Any],
    evidence: EvidenceService,
    state: RoutingState,
    config: MatchingConfig,
    call_id: uuid.UUID,
    public_body_id: uuid.UUID,
    request: MatchRequest,
    persist: bool = True,
) -> MatchResult:
    """``persist=False`` (configuration previews and evaluations) stores nothing."""
    started = time.perf_counter()
    call = await calls_service.get_call(pool=pool, call_id=call_id, public_body_id=public_body_id)
    now = datetime.now(UTC)
    texts = engine.query_texts(call, config=config)
    queries = await evidence.embedder.embed(texts, pool=pool)
    scores, ids = await evidence.search(queries, config.retrieval_depth)
    similarities = engine.best_item_similarities(scores, ids)

    call_filter = engine.call_filter(call, now=now)
    store = evidence.store
    gathered = engine.gather(
        call,
        store=store,
        roles=state.roles.get(store),
        similarities=similarities,
        body=call_filter.body,
    )
    async with pool.acquire() as connection:
        counts = await repository.invitation_counts(
            connection,
            citizen_ids=list(gathered.snapshots),
            month_start=month_start(now),
            window_start=now - timedelta(days=config.exposure_window_days),
        )
    filtered = engine.apply_filters(
        gathered,
        call=call_filter,
        invitations_this_month={c: month for c, (month, _) in counts.items()},
        config=config,
    )
    await _score_unretrieved_holders(
        gathered, filtered, evidence=evidence, pool=pool, queries=queries, config=config
    )
    salt = f"seed:{request.seed}" if request.seed is not None else f"call:{call.id}"
    window = {c: in_window for c, (_, in_window) in counts.items()}

    def select() -> tuple[list[engine.Scored], engine.Selection]:
        scored = engine.score_candidates(
            gathered, filtered, window_invitations=window, config=config
        )
        return scored, engine.rank_and_select(scored, call=call, salt=salt, config=config)

    _, selection = await anyio.to_thread.run_sync(select, limiter=_selection_limiter)
    unmet = engine.unmet_quotas(
        call=call, gathered=gathered, filtered=filtered, panel=selection.panel
    )

    # Erased while we worked: never shown.
    ranked = [s for s in selection.ranked if s.citizen_id in evidence.store]
    members = [c for c in selection.panel.members if c in evidence.store]
    member_set = set(members)
    shown = [
        s
        for position, s in enumerate(ranked)
        if position < config.shortlist_size or s.citizen_id in member_set
    ]
    refs = {
        s.citizen_id: candidate_ref(
            secret=state.ref_secret, call_id=call.id, citizen_id=s.citizen_id
        )
        for s in shown
    }
    candidates = [
        CandidateRead(
            ref=refs[s.citizen_id],
            score=round(s.score, 6),
            evidence=[EvidenceRead.model_validate(e) for e in engine.explain(s, config=config)],
            adjustments=Adjustments(**{k: round(v, 6) for k, v in s.adjustments.items()}),
            roles=s.roles,
        )
        for s in shown
    ]
    panel = [
        PanelMember(ref=refs[c], fills=selection.panel.fills.get(c) or ["relevance"])
        for c in members
    ]
    filtered_counts: dict[str, int] = {}
    for reason in filtered.rejected.values():
        filtered_counts[reason] = filtered_counts.get(reason, 0) + 1
    result = MatchResult(
        call_id=call.id,
        candidates=candidates,
        panel=panel,
        unmet=[Unmet.model_validate(u) for u in unmet],
        stats=MatchStats(
            retrieved=len(gathered.hits),
            role_holders=len(set().union(*gathered.holders.values())) if gathered.holders else 0,
            eligible=len(filtered.eligible),
            filtered=filtered_counts,
            panel_method=selection.panel.method,
        ),
    )
    rows = [
        (
            refs[s.citizen_id],
            s.citizen_id,
            s.score,
            position,
            s.citizen_id in member_set,
            selection.panel.fills.get(s.citizen_id, []),
            candidate.model_dump(mode="json"),
        )
        for position, (s, candidate) in enumerate(zip(shown, candidates, strict=True))
    ]
    if persist:
        async with pool.acquire() as connection, connection.transaction():
            await repository.save_match(connection, call_id=call.id, rows=rows)
    logger.info(
        "call matched",
        extra={
            "call_id": str(call.id),
            "retrieved": result.stats.retrieved,
            "eligible": result.stats.eligible,
            "panel": len(panel),
            "unmet": len(unmet),
            "method": result.stats.panel_method,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return result


async def _score_unretrieved_holders(
    gathered: engine.Gathered,
    filtered: engine.Filtered,
    *,
    evidence: EvidenceService,
    pool: asyncpg.Pool[Any],
    queries: np.typing.NDArray[np.float32],
    config: MatchingConfig,
) -> None:
    """Wanted-role holders the ANN search did not reach: exact similarity over their items."""
    citizen_ids = engine.eligible_without_hits(gathered, filtered, limit=config.role_rescore_max)
    items = [(c, evidence.store.items_of(c)) for c in citizen_ids]
    texts = [item.text for _, owned in items for item in owned]
    if not texts:
        return
    vectors = await evidence.embedder.embed(texts, pool=pool)
    sims = list(engine.similarities_for(vectors, queries))
    offset = 0
    for citizen_id, owned in items:
        gathered.hits[citizen_id] = [Hit(item, sims[offset + i]) for i, item in enumerate(owned)]
        offset += len(owned)
