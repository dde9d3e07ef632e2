"""Routing calls: the I/O shell around ``pipeline.route`` (embed the call, read the exposure
ledger and the "not my expertise" feedback, run the pipeline in a worker), then the match
response and its ``call_match`` rows, so invitations can resolve the pseudonymous refs.

``route_calls`` is the one entry point every caller uses: single-call routing
(``match_call``), batch routing (``batch.candidates``), configuration previews and offline
evaluation (``preview_call``, which stores nothing; replays with ``evidence_before``).

Blocking work runs off the event loop: embedding (the embedder's worker, one batch for all
the calls, cached by normalised text) and the pipeline (in the evidence service's bounded
search worker, holding the citizen store's lock so the feed never mutates the arrays under
it; CP-SAT gets one worker). Citizens erased while a call was routed are dropped at the end.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import anyio
import asyncpg
import numpy as np
from pydantic import TypeAdapter

from convene_common.observability import current_metrics, observe_stage, timed_stage
from convene_matcher.calls import service as calls_service
from convene_matcher.calls.schemas import CallRead
from convene_matcher.embedding.embedder import Vectors
from convene_matcher.index.evidence_index import EvidenceIndex, Ids
from convene_matcher.index.service import EvidenceService
from convene_matcher.routing import pipeline, relevance, repository
from convene_matcher.routing.dependencies import RoutingState
from convene_matcher.routing.explain import (
    explain,
    explain_to_citizen,
    panel_needs,
    unmet_quotas,
)
from convene_matcher.routing.filters import call_filter
from convene_matcher.routing.frame import Routed, RouteRequest, TextSimilarity
from convene_matcher.routing.refs import candidate_ref
from convene_matcher.routing.repository import MatchRow
from convene_matcher.routing.schemas import (
    Adjustments,
    CandidateRead,
    EvidenceRead,
    MatchRequest,
    MatchResult,
    MatchStats,
    PanelMember,
    PanelNeed,
    Unmet,
)
from convene_matcher.scoring import MatchingConfig

logger = logging.getLogger("convene.matcher.routing")

# Plain values (the match rows' fills and citizen evidence) to JSON text, in pydantic's Rust
# serialiser rather than json.dumps.
_JSON: TypeAdapter[Any] = TypeAdapter(Any)


def month_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _similarity(index: EvidenceIndex, queries: Vectors) -> TextSimilarity:
    """The index's text scores for one call's query vectors: the call's text first
    (``pipeline.query_texts``), then its skill labels. A first round searches the text with
    a shallow probe (IndexParams.hnsw_probe_k) and each label at its own efSearch
    (hnsw_ef_search_labels); retrieval searches deeper only the queries whose results may
    reach its cut (retrieval.searched_texts); the text's deep search has hnsw_ef_search."""

    def best_over_queries(found: Ids, scores: Vectors) -> tuple[Ids, Vectors]:
        return found, scores.max(axis=0) if len(found) else np.empty(0, dtype=np.float32)

    params = index.params
    full_ef = [params.hnsw_ef_search] + [params.hnsw_ef_search_labels] * (len(queries) - 1)
    first_k = (params.hnsw_probe_k,) + (params.hnsw_ef_search_labels,) * (len(queries) - 1)

    def search_queries(ks: Sequence[int], deep: Sequence[bool]) -> list[tuple[Ids, Vectors]]:
        rows = [row for row, k in enumerate(ks) if k > 0]
        empty = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32))
        found: list[tuple[Ids, Vectors]] = [empty] * len(ks)
        if not rows:
            return found
        scores, ids = index.search(
            queries[rows],
            [ks[row] for row in rows],
            ef_search=[full_ef[row] if deep[row] else ks[row] for row in rows],
        )
        for position, row in enumerate(rows):
            keep = ids[position] >= 0
            found[row] = ids[position][keep], scores[position][keep]
        return found

    return TextSimilarity(
        all_text_scores=(
            (lambda: best_over_queries(*index.exact_scores(queries)))
            if index.kind == "exact"
            else None
        ),
        search_queries=search_queries,
        score_texts=lambda ids: best_over_queries(*index.exact_scores(queries, ids)),
        first_k=first_k,
    )


# Postings filled in the background worth a snapshot of their own (re-vectorising this many
# texts after a restart costs the first calls several seconds of CPU).
POSTINGS_SNAPSHOT_MIN_TEXTS = 10_000


async def warm_lexical_postings(
    *, evidence: EvidenceService, config: MatchingConfig, chunk: int = 500
) -> int:
    """Vectorises, in a worker, every text the store's lexical postings (under the active
    configuration) have not met, ``chunk`` texts per hold of their lock (a route waits at
    most one chunk). Without this a fresh call pays for its candidates' texts: at 250k texts
    81.6% of routing's py-spy samples were lexical vectorising. A snapshot that already holds
    the postings leaves nothing to do; a large fill is saved at once. Returns texts filled."""
    store = evidence.store
    # On the event loop, where the feed mutates the store: no mutation runs meanwhile.
    ids = store.text_ids()
    filled = await fill_lexical_postings_of(evidence=evidence, config=config, ids=ids, chunk=chunk)
    if filled >= POSTINGS_SNAPSHOT_MIN_TEXTS and store.seq > 0:
        await evidence.save_snapshot()
    logger.info("lexical postings filled", extra={"texts": filled})
    return filled


async def fill_lexical_postings_of(
    *, evidence: EvidenceService, config: MatchingConfig, ids: Ids, chunk: int = 500
) -> int:
    """Vectorises these texts for the lexical postings (those not met yet), in a worker,
    ``chunk`` at a time. The feed calls it with each page's new texts: at 100,000 citizens
    17% of routing's samples were the first calls vectorising texts the feed had just added
    (bench/results/scale-py-spy). Returns texts filled."""
    store = evidence.store
    postings = relevance.lexical_postings(store, config=config)
    filled = 0
    for start in range(0, len(ids), chunk):
        filled += await anyio.to_thread.run_sync(
            partial(postings.fill, store.text, ids[start : start + chunk])
        )
    return filled


def route_request(
    call: CallRead,
    call_texts: Sequence[str],
    queries: Vectors,
    *,
    index: EvidenceIndex,
    config: MatchingConfig,
    now: datetime,
    salt: str,
    invitations: Mapping[str, tuple[int, int]],
    feedback: Mapping[tuple[str, str], int],
    evidence_before: datetime | None = None,
    with_panel: bool = True,
) -> RouteRequest:
    """What ``pipeline.route`` is asked for one call: its texts (``pipeline.query_texts``)
    and their vectors, scored against the index; the one composition every caller uses
    (``route_calls``; the cross-person benchmark, bench/crossperson, in process)."""
    return RouteRequest(
        call=call,
        call_filter=call_filter(call, now=now),
        similarity=_similarity(index, queries),
        config=config,
        salt=salt,
        query_text=call_texts[0],
        invitations=invitations,
        feedback=feedback,
        evidence_before=evidence_before,
        with_panel=with_panel,
    )


async def route_calls(
    *,
    pool: asyncpg.Pool[Any],
    evidence: EvidenceService,
    config: MatchingConfig,
    calls: Sequence[CallRead],
    now: datetime,
    salts: Sequence[str] | None = None,
    evidence_before: Sequence[datetime | None] | None = None,
    invitations: Mapping[str, tuple[int, int]] | None = None,
    with_panel: bool = True,
    persist_vectors: bool = True,
) -> list[Routed]:
    """Routing's one pipeline for each call (same order): one embedding batch for all, the
    exposure ledger and feedback read once, then ``pipeline.route`` per call in the search
    worker. ``salts`` default to ``call:<id>``; ``evidence_before`` (replays) leaves out
    evidence dated at or after it; ``invitations`` replaces the ledger's counts;
    ``with_panel=False`` ranks without picking each call's own panel.
    ``persist_vectors=False``: vectors the model makes for the calls' texts stay in the
    memory cache, not written to the embedding cache table (still read: a call's skill
    labels are mostly there). A call's own text is met once; writing its vector was a
    commit on its route's path."""
    texts = [pipeline.query_texts(call, config=config) for call in calls]
    flat = [text for call_texts in texts for text in call_texts]
    # One model generation for the whole call: a re-embedding job may switch embedder and
    # index while this call awaits, and the index refuses query vectors of another model.
    embedder, index = evidence.generation()

    async def embed_texts() -> Vectors | None:
        with timed_stage("embed"):
            if not flat:
                return None
            return await embedder.embed(flat, pool=pool, persist=persist_vectors)

    async def read_ledger() -> tuple[Mapping[str, tuple[int, int]], Mapping[tuple[str, str], int]]:
        async with pool.acquire() as connection:
            counts = invitations
            if counts is None:
                counts = await repository.invitations_in_window(
                    connection,
                    month_start=month_start(now),
                    window_start=now - timedelta(days=config.exposure_window_days),
                )
            return counts, await repository.feedback_counts(connection)

    # The ledger is read while the model embeds the call (a worker thread).
    vectors, (invitations, feedback) = await asyncio.gather(embed_texts(), read_ledger())
    index.require_model(embedder.cache_model)
    store = evidence.store
    metrics = current_metrics()  # the app's, read here: worker threads do not see it
    routed: list[Routed] = []
    offset = 0
    for n, (call, call_texts) in enumerate(zip(calls, texts, strict=True)):
        assert vectors is not None
        queries = vectors[offset : offset + len(call_texts)]
        offset += len(call_texts)
        request = route_request(
            call,
            call_texts,
            queries,
            index=index,
            config=config,
            now=now,
            salt=salts[n] if salts is not None else f"call:{call.id}",
            invitations=invitations,
            feedback=feedback,
            evidence_before=evidence_before[n] if evidence_before is not None else None,
            with_panel=with_panel,
        )
        queued = time.perf_counter()

        def route(request: RouteRequest = request, queued: float = queued) -> Routed:
            # How long the route waited for a worker (at most ROUTE_WORKERS run at once).
            metrics.observe_stage("queued", time.perf_counter() - queued)
            return pipeline.route(store, request)

        with timed_stage("engine"):
            routed.append(await evidence.run_search_work(route))
    return routed


@dataclass(frozen=True, slots=True)
class StoredMatch:
    """A stored match: ``body`` is ``result`` as JSON, serialised once, kept as the call's
    last match and answered as is."""

    result: MatchResult
    body: str


async def match_call(
    *,
    pool: asyncpg.Pool[Any],
    evidence: EvidenceService,
    state: RoutingState,
    config: MatchingConfig,
    config_id: int | None,
    call_id: uuid.UUID,
    public_body_id: uuid.UUID,
    request: MatchRequest,
) -> StoredMatch:
    """Routes the call under the active configuration (``config_id``), then stores the match
    (``save_match``) and returns it with its JSON."""
    started = time.perf_counter()
    call, result, rows = await _route_and_explain(
        pool=pool,
        evidence=evidence,
        state=state,
        config=config,
        config_id=config_id,
        call_id=call_id,
        public_body_id=public_body_id,
        request=request,
        evidence_before=None,
        stored=True,
    )
    with timed_stage("persist"):
        body = await save_match(pool=pool, result=result, rows=rows)
    _matched(call, result, started=started)
    return StoredMatch(result=result, body=body)


async def preview_call(
    *,
    pool: asyncpg.Pool[Any],
    evidence: EvidenceService,
    state: RoutingState,
    config: MatchingConfig,
    call_id: uuid.UUID,
    public_body_id: uuid.UUID,
    evidence_before: datetime | None = None,
) -> MatchResult:
    """``match_call`` storing nothing (configuration previews and evaluations);
    ``evidence_before`` (replays) routes against the evidence as it stood then."""
    started = time.perf_counter()
    call, result, _ = await _route_and_explain(
        pool=pool,
        evidence=evidence,
        state=state,
        config=config,
        config_id=None,
        call_id=call_id,
        public_body_id=public_body_id,
        request=MatchRequest(),
        evidence_before=evidence_before,
        stored=False,
    )
    _matched(call, result, started=started)
    return result


async def save_match(
    *, pool: asyncpg.Pool[Any], result: MatchResult, rows: Sequence[MatchRow]
) -> str:
    """The match's ``call_match`` rows and the call's last match, in one statement; returns
    the result's JSON, the text stored. Serialised once by pydantic (in Rust): model_dump
    and the pool's json.dumps codec were ~10% of the event loop's samples at 100,000
    citizens, and FastAPI then serialised the result a second time."""
    body = result.model_dump_json()
    async with pool.acquire() as connection:
        await repository.save_match_and_result(
            connection, call_id=result.call_id, rows=rows, result_json=body
        )
    return body


async def _route_and_explain(
    *,
    pool: asyncpg.Pool[Any],
    evidence: EvidenceService,
    state: RoutingState,
    config: MatchingConfig,
    config_id: int | None,
    call_id: uuid.UUID,
    public_body_id: uuid.UUID,
    request: MatchRequest,
    evidence_before: datetime | None,
    stored: bool,
) -> tuple[CallRead, MatchResult, list[MatchRow]]:
    call = await calls_service.get_call(pool=pool, call_id=call_id, public_body_id=public_body_id)
    salt = f"seed:{request.seed}" if request.seed is not None else f"call:{call.id}"
    [routed] = await route_calls(
        pool=pool,
        evidence=evidence,
        config=config,
        calls=[call],
        now=datetime.now(UTC),
        salts=[salt],
        evidence_before=[evidence_before],
        persist_vectors=False,
    )
    result, rows = match_result(
        call=call,
        routed=routed,
        evidence=evidence,
        state=state,
        config=config,
        config_id=config_id,
        with_rows=stored,
    )
    return call, result, rows


def _matched(call: CallRead, result: MatchResult, *, started: float) -> None:
    observe_stage("total", time.perf_counter() - started)
    logger.info(
        "call matched",
        extra={
            "call_id": str(call.id),
            "retrieved": result.stats.retrieved,
            "eligible": result.stats.eligible,
            "panel": len(result.panel),
            "unmet": len(result.unmet),
            "method": result.stats.panel_method,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )


def match_result(
    *,
    call: CallRead,
    routed: Routed,
    evidence: EvidenceService,
    state: RoutingState,
    config: MatchingConfig,
    config_id: int | None = None,
    members: Sequence[str] | None = None,
    fills: Mapping[str, list[str]] | None = None,
    with_rows: bool = True,
) -> tuple[MatchResult, list[MatchRow]]:
    """The match response (ranked under configuration ``config_id``) and its ``call_match``
    rows (none with ``with_rows=False``: previews store nothing, and each row serialises a
    candidate's explanation). ``members`` and ``fills`` replace the call's own panel (a
    batch's panel for the call)."""
    unmet = unmet_quotas(call=call, roles=routed.roles, panel=routed.panel)
    if members is None:
        members, fills = routed.panel.members, routed.panel.fills
    fills = fills or {}
    # Erased while we worked: never shown.
    ranked = [s for s in routed.ranked if s.citizen_id in evidence.store]
    members = [c for c in members if c in evidence.store]
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
            evidence=[EvidenceRead.model_validate(e) for e in explain(s, config=config)],
            adjustments=Adjustments(**{k: round(v, 6) for k, v in s.adjustments.items()}),
            roles=s.roles,
        )
        for s in shown
    ]
    by_id = {s.citizen_id: s for s in shown}
    panel = [PanelMember(ref=refs[c], fills=fills.get(c) or ["relevance"]) for c in members]
    result = MatchResult(
        call_id=call.id,
        candidates=candidates,
        panel=panel,
        unmet=[Unmet.model_validate(u) for u in unmet],
        panel_needs=[
            PanelNeed.model_validate(need)
            for need in panel_needs(by_id[c] for c in members if c in by_id)
        ],
        stats=MatchStats(
            retrieved=routed.retrieved,
            role_holders=routed.role_holders,
            eligible=routed.eligible,
            filtered=routed.filtered,
            panel_method=routed.panel.method,
        ),
        config_id=config_id,
    )
    if not with_rows:
        return result, []
    rows = [
        MatchRow(
            ref=refs[s.citizen_id],
            citizen_id=s.citizen_id,
            score=s.score,
            position=position,
            in_panel=s.citizen_id in member_set,
            fills=_JSON.dump_json(fills.get(s.citizen_id, [])).decode(),
            explanation=candidate.model_dump_json(),
            citizen_evidence=_JSON.dump_json(explain_to_citizen(s)).decode(),
        )
        for position, (s, candidate) in enumerate(zip(shown, candidates, strict=True))
    ]
    return result, rows
