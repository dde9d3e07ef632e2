"""Routing a call: embed -> ANN search -> group per citizen (+ wanted-role holders) -> hard
filters -> weighted score -> panel under quotas and caps -> explanations; stored in
``call_match`` so invitations can resolve the pseudonymous refs.

Blocking work runs off the event loop: embedding (the embedder's worker, one batch per call,
cached by normalised text) and the vectorised retrieval, filtering, scoring and panel
selection (``engine.route``, in the evidence service's bounded search worker, holding the
citizen store's lock so the feed never mutates the arrays under it; CP-SAT gets one worker).
Citizens erased while a call was routed are dropped at the end.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import numpy as np

from convene_common.observability import observe_stage, timed_stage
from convene_matcher.calls import service as calls_service
from convene_matcher.embedding.embedder import Vectors
from convene_matcher.index.evidence_index import Ids
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
from convene_matcher.scoring import MatchingConfig

logger = logging.getLogger("convene.matcher.routing")


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
    # One batch, cached by normalised text: a call routed again costs no model time.
    with timed_stage("embed"):
        queries = await evidence.embedder.embed(texts, pool=pool)
    async with pool.acquire() as connection:
        invitations = await repository.invitations_in_window(
            connection,
            month_start=month_start(now),
            window_start=now - timedelta(days=config.exposure_window_days),
        )
        feedback = await repository.feedback_counts(connection)
    salt = f"seed:{request.seed}" if request.seed is not None else f"call:{call.id}"
    store, index = evidence.store, evidence.index

    def best_over_queries(found: Ids, scores: Vectors) -> tuple[Ids, Vectors]:
        return found, scores.max(axis=0) if len(found) else np.empty(0, dtype=np.float32)

    def search_texts(k: int) -> tuple[Ids, Vectors]:
        scores, ids = index.search(queries, k)
        flat_ids, flat_scores = ids.ravel(), scores.ravel()
        keep = flat_ids >= 0
        flat_ids, flat_scores = flat_ids[keep], flat_scores[keep]
        order = np.argsort(-flat_scores, kind="stable")
        unique_ids, first = np.unique(flat_ids[order], return_index=True)
        return unique_ids, flat_scores[order][first]

    route_started = time.perf_counter()
    routed = await evidence.run_search_work(
        lambda: engine.route(
            call,
            call_filter=engine.call_filter(call, now=now),
            store=store,
            all_text_scores=(
                (lambda: best_over_queries(*index.exact_scores(queries)))
                if index.kind == "exact"
                else None
            ),
            search_texts=search_texts,
            score_texts=lambda ids: best_over_queries(*index.exact_scores(queries, ids)),
            invitations=invitations,
            salt=salt,
            config=config,
            query_text=texts[0],
            feedback=feedback,
        )
    )
    # The whole engine, waiting for the bounded search worker included.
    observe_stage("engine", time.perf_counter() - route_started)
    unmet = engine.unmet_quotas(call=call, roles=routed.roles, panel=routed.panel)

    # Erased while we worked: never shown.
    ranked = [s for s in routed.ranked if s.citizen_id in evidence.store]
    members = [c for c in routed.panel.members if c in evidence.store]
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
        PanelMember(ref=refs[c], fills=routed.panel.fills.get(c) or ["relevance"]) for c in members
    ]
    result = MatchResult(
        call_id=call.id,
        candidates=candidates,
        panel=panel,
        unmet=[Unmet.model_validate(u) for u in unmet],
        stats=MatchStats(
            retrieved=routed.retrieved,
            role_holders=routed.role_holders,
            eligible=routed.eligible,
            filtered=routed.filtered,
            panel_method=routed.panel.method,
        ),
    )
    rows = [
        (
            refs[s.citizen_id],
            s.citizen_id,
            s.score,
            position,
            s.citizen_id in member_set,
            routed.panel.fills.get(s.citizen_id, []),
            candidate.model_dump(mode="json"),
        )
        for position, (s, candidate) in enumerate(zip(shown, candidates, strict=True))
    ]
    if persist:
        async with pool.acquire() as connection, connection.transaction():
            await repository.save_match(connection, call_id=call.id, rows=rows)
    observe_stage("total", time.perf_counter() - started)
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
