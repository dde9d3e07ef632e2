"""Routing's one pipeline, apart from I/O: retrieve, relevance, filters, score, panel.

``route`` runs in a worker thread holding the read side of ``CitizenStore.lock`` (routes
run concurrently; the feed's store mutations wait for them), over the store's numpy columns
(``citizens.arrays``), never a Python loop per candidate. Its stages are modules over one
``frame.CandidateFrame``:

1-2. ``retrieval``: similarity of every distinct evidence text to the call, texts in
     descending similarity until they cover ``retrieval_depth`` items, their citizens, plus
     every holder of a wanted role;
3.   ``relevance``: level- and kind-weighted, "not my expertise"-damped, lexically mixed
     top-k mean over all of each candidate's items (``scoring.citizen_relevance``, vectorised);
4.   ``filters``: the hard filters as boolean columns;
5.   ``scores``: the score of every eligible candidate; the best ``shortlist`` and, per wanted
     role, the best ``POOL_FACTOR x panel_size`` holders are explained;
6.   panel selection over that small pool (CP-SAT only when quotas or caps bind).

Single-call routing, batch routing, configuration previews and offline evaluation all call
``route`` (through ``routing.service.route_calls``): one composition, so none can drift.
"""

from __future__ import annotations

import numpy as np

from convene_matcher.calls.schemas import CallRead
from convene_matcher.citizens.store import CitizenStore
from convene_matcher.index.half_products import half_products
from convene_matcher.panel import PanelCandidate, PanelResult, Quota, select_panel
from convene_matcher.routing.filters import apply_filters, reason_counts
from convene_matcher.routing.frame import Routed, RouteRequest, Scored
from convene_matcher.routing.relevance import score_relevance
from convene_matcher.routing.retrieval import candidate_frame
from convene_matcher.routing.scores import POOL_FACTOR, pick, rank, rescore, score_frame
from convene_matcher.scoring import MatchingConfig
from convene_matcher.scoring.lexical import lexical_vector


def warm_up() -> None:
    """Pays at start-up what the first routed call would (about half a second): the lexical
    frequency tables, OR-Tools' CP-SAT and the float16 scoring session. Blocking."""
    lexical_vector("warm up the general English frequency tables", idf_floor=4.0)
    half_products(
        np.zeros((1, 8), dtype=np.float16),
        np.zeros(1, dtype=np.int64),
        np.zeros((1, 8), dtype=np.float32),
    )
    select_panel(
        [PanelCandidate("a", 1.0), PanelCandidate("b", 0.5, frozenset({"role"}))],
        quotas=[Quota("role", 1, 1)],
        panel_size=1,
        max_affiliation_share=1.0,
    )


def query_texts(call: CallRead, *, config: MatchingConfig) -> list[str]:
    """The call as one text (title, description, questions, wanted skills), then each skill."""
    parts = [call.title, call.description, *call.questions]
    skills = [skill.label for skill in call.skills]
    if skills:
        parts.append("Skills wanted: " + ", ".join(skills))
    texts = [". ".join(part.strip().rstrip(".") for part in parts if part.strip())]
    if config.skill_queries:
        texts.extend(dict.fromkeys(skills))
    return texts


def panel_pool(ranked: list[Scored], request: RouteRequest) -> list[Scored]:
    """What panel selection sees: the best ``POOL_FACTOR x panel_size`` (at most
    ``candidate_pool_size``) plus each wanted role's best holders, in rank order."""
    call = request.call
    pool_size = min(request.config.candidate_pool_size, POOL_FACTOR * call.panel_size)
    pool = ranked[:pool_size]
    in_pool = {s.citizen_id for s in pool}
    for perspective in call.perspectives:
        taken = 0
        for candidate in ranked:
            if taken >= POOL_FACTOR * call.panel_size:
                break
            if perspective.role in candidate.roles:
                taken += 1
                if candidate.citizen_id not in in_pool:
                    in_pool.add(candidate.citizen_id)
                    pool.append(candidate)
    position = {s.citizen_id: i for i, s in enumerate(ranked)}
    pool.sort(key=lambda s: position[s.citizen_id])
    return pool


def route(store: CitizenStore, request: RouteRequest) -> Routed:
    """Blocking: run in a worker. The call's ranked candidates and its panel."""
    with store.lock.read():
        frame = candidate_frame(store, request)
        score_relevance(store, frame, request)
        apply_filters(store, frame, request.call_filter, request.invitations)
        score_frame(store, frame, request)
        selected, summaries = pick(frame, request)
        ranked = rank(rescore(store, frame, request, selected), request)
    call, config = request.call, request.config
    if not request.with_panel:
        panel = PanelResult(members=[], fills={}, method="empty")
    else:
        pool = panel_pool(ranked, request)
        panel = select_panel(
            [
                PanelCandidate(s.citizen_id, s.score, frozenset(s.roles), s.affiliations)
                for s in pool
            ],
            quotas=[Quota(p.role, p.min, p.max) for p in call.perspectives],
            panel_size=call.panel_size,
            max_affiliation_share=config.max_affiliation_share,
            time_limit_seconds=config.panel_solver_time_limit_seconds,
        )
    position = {s.citizen_id: i for i, s in enumerate(ranked)}
    panel.members.sort(key=lambda c: position[c])
    return Routed(
        ranked=ranked,
        panel=panel,
        roles=summaries,
        retrieved=frame.retrieved,
        role_holders=frame.role_holders,
        eligible=int(frame.eligible.sum()),
        filtered=reason_counts(frame.reason),
    )
