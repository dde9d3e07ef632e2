"""rescore's hits (the evidence an explanation shows) against the rule they replace: every
item of the candidate as a hit, sorted by similarity x damping x item weight (stable in item
order), the first EVIDENCE_SHOWN kept; a candidate damped by feedback keeps them all."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from convene_matcher.calls.schemas import CallRead
from convene_matcher.citizens.store import CitizenStore
from convene_matcher.index.evidence_index import EvidenceIndex, IndexParams
from convene_matcher.routing.explain import EVIDENCE_SHOWN
from convene_matcher.routing.filters import apply_filters, call_filter
from convene_matcher.routing.frame import RouteRequest
from convene_matcher.routing.relevance import score_relevance
from convene_matcher.routing.retrieval import candidate_frame
from convene_matcher.routing.scores import pick, rescore, score_frame
from convene_matcher.routing.service import _similarity
from convene_matcher.scoring import MatchingConfig, item_weight
from tests.matcher.routing.citizens import snapshot

DIM = 24
LEVELS = ["want_to_learn", "can_explain", "can_connect", "can_do"]


def population(rng: np.random.Generator) -> CitizenStore:
    store = CitizenStore()
    labels = [f"skill {n}" for n in range(80)]
    for _ in range(160):
        chosen = rng.choice(np.arange(1, len(labels)), size=int(rng.integers(2, 9)), replace=False)
        store.upsert(
            snapshot(
                skills=[(labels[n], LEVELS[int(rng.integers(0, 4))]) for n in [0, *chosen]],
                # A badge named as a skill everyone holds and the call asks for: the same
                # text, so the same similarity, where only the item weight orders the two.
                badges=[(labels[0], bool(rng.random() < 0.5)), ("badge 1", False)],
                roles=["cyclist"] if rng.random() < 0.3 else [],
            )
        )
    return store


def a_call(now: datetime) -> CallRead:
    return CallRead.model_validate(
        {
            "id": uuid.uuid4(), "public_body_id": uuid.uuid4(),
            "public_body_name": "Test Council", "title": "Cycling lanes",
            "description": "Protected cycling lanes on the ring road", "questions": [],
            "skills": [], "perspectives": [], "place": None, "languages": [],
            "access_offered": [], "hours": None, "deadline": now + timedelta(days=30),
            "panel_size": 8, "conflicts": [], "confidentiality": "public", "status": "open",
            "created_at": now,
        }
    )  # fmt: skip


@pytest.mark.parametrize("seed", range(4))
def test_hits_are_the_best_items_by_the_python_rule_and_damped_candidates_keep_all(
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    store = population(rng)
    ids = np.sort(store.text_ids()).astype(np.int64)
    vectors = rng.standard_normal((len(ids), DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    if seed % 2:  # equal vectors: ties of similarity, broken by item weight then item order
        vectors[1::2] = vectors[::2][: len(vectors[1::2])]
    index = EvidenceIndex.build(
        model_name="m", dimension=DIM, ids=ids, vectors=vectors,
        params=IndexParams(exact_max_items=100_000), seq=1,
    )  # fmt: skip
    # Every candidate selected; a badge weighs between the skill levels.
    config = MatchingConfig(shortlist_size=200)
    config = config.model_copy(update={"kind_weights": {**config.kind_weights, "badge": 0.9}})
    now = datetime.now(UTC)
    call = a_call(now)
    some = [cid for cid, _ in store.citizens()][::2]
    feedback = {
        (cid, item.text): 2 for cid in some for item in store.items_of(cid)[:1]
    }  # "not my expertise" on one item each
    asked = vectors[np.searchsorted(ids, store.text_id("skill 0"))][None]  # the call's query
    request = RouteRequest(
        call=call, call_filter=call_filter(call, now=now), similarity=_similarity(index, asked),
        config=config, salt="s", query_text=call.description, feedback=feedback,
    )  # fmt: skip
    frame = candidate_frame(store, request)
    score_relevance(store, frame, request)
    apply_filters(store, frame, request.call_filter, request.invitations)
    score_frame(store, frame, request)
    selected, _ = pick(frame, request)
    scored = rescore(store, frame, request, selected)
    assert len(scored) == len(selected) > 20
    starts = np.cumsum(frame.counts) - frame.counts
    by_owner = {store.arrays.slot_citizen[int(frame.slots[i])]: i for i in selected.tolist()}
    damped = 0
    for candidate in scored:
        i = by_owner[candidate.citizen_id]
        items = store.items_of(candidate.citizen_id)
        rows = range(int(starts[i]), int(starts[i] + frame.counts[i]))
        rule = sorted(
            (
                (items[int(frame.positions[r])], float(frame.raw[r]), float(frame.damping[r]))
                for r in rows
            ),
            key=lambda h: -h[1] * h[2] * item_weight(h[0], config, now=now.timestamp()),
        )
        is_damped = any(factor != 1.0 for _, _, factor in rule)
        damped += is_damped
        expected = rule if is_damped else rule[:EVIDENCE_SHOWN]
        assert [(h.item.item_id, h.similarity, h.factor) for h in candidate.hits] == [
            (item.item_id, similarity, factor) for item, similarity, factor in expected
        ]
        assert [h.item for h in candidate.hits] == [item for item, _, _ in expected]
    assert damped, "some candidates were damped by feedback"
