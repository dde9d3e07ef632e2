"""Each call's eligible, scored candidates from routing's own pipeline (one composition).

The same steps as ``routing.service.match_call`` up to panel selection: the call's query
texts (``engine.query_texts``), one embedding batch for every call of the batch (cached by
normalised text), then ``engine.route`` in the evidence service's bounded search worker (hard
filters, including this month's invitation caps, and the weighted score). ``Routed.ranked``
(the shortlist plus each wanted role's best holders, best first) is the call's pool; the
panel ``engine.route`` picks for the call alone is not used here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg
import numpy as np

from convene_matcher.calls.schemas import CallRead
from convene_matcher.embedding.embedder import Vectors
from convene_matcher.index.evidence_index import Ids
from convene_matcher.index.service import EvidenceService
from convene_matcher.routing import engine
from convene_matcher.scoring import MatchingConfig


async def route_candidates(
    *,
    pool: asyncpg.Pool[Any],
    evidence: EvidenceService,
    config: MatchingConfig,
    calls: Sequence[CallRead],
    invitations: Mapping[str, tuple[int, int]],
    now: datetime,
) -> list[list[engine.Scored]]:
    """Per call (same order): its eligible candidates, best first; erased ones dropped."""
    texts = [engine.query_texts(call, config=config) for call in calls]
    flat = [text for call_texts in texts for text in call_texts]
    vectors = await evidence.embedder.embed(flat, pool=pool) if flat else None
    store, index = evidence.store, evidence.index
    pools: list[list[engine.Scored]] = []
    offset = 0
    for call, call_texts in zip(calls, texts, strict=True):
        assert vectors is not None
        queries = vectors[offset : offset + len(call_texts)]
        offset += len(call_texts)

        def best_over_queries(found: Ids, scores: Vectors) -> tuple[Ids, Vectors]:
            return found, scores.max(axis=0) if len(found) else np.empty(0, dtype=np.float32)

        def search_texts(k: int, queries: Vectors = queries) -> tuple[Ids, Vectors]:
            scores, ids = index.search(queries, k)
            flat_ids, flat_scores = ids.ravel(), scores.ravel()
            keep = flat_ids >= 0
            flat_ids, flat_scores = flat_ids[keep], flat_scores[keep]
            order = np.argsort(-flat_scores, kind="stable")
            unique_ids, first = np.unique(flat_ids[order], return_index=True)
            return unique_ids, flat_scores[order][first]

        def work(call: CallRead = call, queries: Vectors = queries) -> engine.Routed:
            return engine.route(
                call,
                call_filter=engine.call_filter(call, now=now),
                store=store,
                all_text_scores=(
                    (lambda: best_over_queries(*index.exact_scores(queries)))
                    if index.kind == "exact"
                    else None
                ),
                search_texts=lambda k: search_texts(k, queries),
                score_texts=lambda ids: best_over_queries(*index.exact_scores(queries, ids)),
                invitations=invitations,
                salt=f"call:{call.id}",
                config=config,
            )

        routed = await evidence.run_search_work(work)
        pools.append([s for s in routed.ranked if s.citizen_id in evidence.store])
    return pools
