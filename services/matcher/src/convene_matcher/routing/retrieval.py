"""Stages 1-2: text similarities, retrieval over distinct texts, and the candidate frame.

Texts in descending similarity until they cover ``retrieval_depth`` items (the same "top
items" as an item index, without a vector per item), their citizens, plus every holder of a
wanted role (for a ``body staff`` perspective: the body's employees)."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from convene_matcher.citizens.arrays import block_rows
from convene_matcher.citizens.store import CitizenStore
from convene_matcher.routing.frame import (
    CandidateFrame,
    FloatArray,
    Int64s,
    RouteRequest,
    TextScores,
    TextSimilarity,
)
from convene_matcher.routing.names import BODY_STAFF_ROLE, role_key
from convene_matcher.routing.relevance import contribution_weight_table

# Exact scoring of the texts a search did not return, beside the route's own thread (the
# index's reads share its lock; ONNX Runtime and numpy release the GIL).
_EXACT_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="exact-scores")

# A deep HNSW search asks for at least this many texts.
FIRST_SEARCH = 256


def text_similarities(
    text_ids: Int64s, text_scores: FloatArray, size: int
) -> tuple[FloatArray, Int64s]:
    """Dense similarity by text id (NaN: not scored) and the text ids best first."""
    dense = np.full(size, np.nan, dtype=np.float32)
    dense[text_ids] = text_scores
    order = text_ids[np.argsort(-text_scores, kind="stable")]
    return dense, order


def retrieve(store: CitizenStore, ordered_texts: Int64s, depth: int) -> tuple[list[int], int]:
    """Texts, best first, until their items cover ``depth``; and how many items they cover."""
    refs = store.refs_of(ordered_texts)
    covered = np.cumsum(refs)
    # The first text whose items reach ``depth`` is the last taken.
    end = min(int(np.searchsorted(covered, depth)) + 1, len(ordered_texts))
    chosen = ordered_texts[:end][refs[:end] > 0]
    return chosen.tolist(), int(covered[end - 1]) if end else 0


def best_by_text(found: Sequence[TextScores]) -> TextScores:
    """Distinct text ids and each one's best score over the queries' results."""
    ids = np.concatenate([ids for ids, _ in found]) if found else np.empty(0, np.int64)
    scores = np.concatenate([s for _, s in found]) if found else np.empty(0, np.float32)
    order = np.argsort(-scores, kind="stable")
    unique_ids, first = np.unique(ids[order], return_index=True)
    return unique_ids, scores[order][first]


def searched_texts(
    store: CitizenStore, similarity: TextSimilarity, depth: int
) -> tuple[FloatArray, list[int]]:
    """Retrieval through the HNSW index, in rounds: the cut where the texts found so far
    cover ``depth`` items can only rise as more are found, so a query whose k-th result
    already scores below it holds every text of its own that could be retrieved. Only the
    others are searched again: deep (their own efSearch, k covering ``depth``), then four
    times deeper while they may still reach the cut (texts whose items were all erased can
    leave a search short). Most calls need one round of shallow searches (a label query
    often fills the cut) where every query used to be searched deep."""
    size = store.next_text_id
    # Every live text has an item, so ``depth`` texts cover ``depth`` items.
    deep_k = max(FIRST_SEARCH, min(depth, store.text_count))
    ks = [min(k, deep_k) for k in similarity.first_k]
    deep = [False] * len(ks)
    found = similarity.search_queries(ks, deep)
    while True:
        ids, scores = best_by_text(found)
        dense, ordered = text_similarities(ids, scores, size)
        chosen, covered = retrieve(store, ordered, depth)
        cut = float(dense[chosen[-1]]) if chosen and covered >= depth else -np.inf
        again = [
            row
            for row, (row_ids, row_scores) in enumerate(found)
            if ks[row] > 0
            and len(row_ids) >= ks[row]  # a full answer: there may be more
            and float(row_scores[ks[row] - 1]) >= cut
            and (not deep[row] or ks[row] < store.text_count)
        ]
        if not again:
            return dense, chosen
        asked = [0] * len(ks)
        for row in again:
            ks[row] = max(deep_k, ks[row]) if not deep[row] else ks[row] * 4
            deep[row] = True
            asked[row] = ks[row]
        for row, result in enumerate(similarity.search_queries(asked, deep)):
            if asked[row]:
                found[row] = result


def _retrieved_texts(store: CitizenStore, request: RouteRequest) -> tuple[FloatArray, list[int]]:
    depth = request.config.retrieval_depth
    similarity = request.similarity
    if similarity.all_text_scores is not None:
        ids, scores = similarity.all_text_scores()
        dense, ordered = text_similarities(ids, scores, store.next_text_id)
        chosen, _ = retrieve(store, ordered, depth)
        return dense, chosen
    return searched_texts(store, similarity, depth)


def candidate_frame(store: CitizenStore, request: RouteRequest) -> CandidateFrame:
    """The retrieved citizens and every wanted role's holders, with their item rows; the
    item rows' similarities are filled (texts an HNSW search did not return scored exactly)."""
    arrays = store.arrays
    dense, chosen = _retrieved_texts(store, request)
    retrieved = arrays.slots_of_texts(chosen)
    holders: dict[str, Int64s] = {}
    for perspective in request.call.perspectives:
        if role_key(perspective.role) == BODY_STAFF_ROLE:
            holders[perspective.role] = arrays.affiliated(
                frozenset({request.call_filter.body}), employer_only=True
            )
        else:
            holders[perspective.role] = arrays.role_holders(perspective.role)
    # Slot masks instead of set operations on sorted arrays (tens of thousands of holders).
    is_holder_slot = np.zeros(arrays.capacity, dtype=np.bool_)
    for role_slots in holders.values():
        is_holder_slot[role_slots] = True
    is_candidate_slot = is_holder_slot.copy()
    is_candidate_slot[retrieved] = True
    is_candidate_slot &= arrays.alive[: arrays.capacity]
    slots = np.flatnonzero(is_candidate_slot)
    role_masks = {}
    for role, role_slots in holders.items():
        mask = np.zeros(arrays.capacity, dtype=np.bool_)
        mask[role_slots] = True
        role_masks[role] = mask[slots]
    counts = arrays.item_count[slots].astype(np.int64)
    rows = block_rows(arrays.item_start[slots], counts)
    positions = np.arange(len(rows), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    # Rated contributions whose rating weighs nothing (by default 1 and 2 stars) are no
    # evidence at all (scoring.counts_as_evidence).
    kept = contribution_weight_table(request.config)[arrays.item_rating[rows]] > 0
    if request.evidence_before is not None and len(rows):
        # A replay sees the evidence as it stood before the call: not the ratings (and the
        # rated contributions' texts) that the call itself produced, or anything later.
        kept &= ~(arrays.item_dated[rows] >= request.evidence_before.timestamp())
    if not kept.all():
        segment = np.repeat(np.arange(len(slots)), counts)
        rows, positions = rows[kept], positions[kept]
        counts = np.bincount(segment[kept], minlength=len(slots)).astype(np.int64)
    texts = arrays.item_text[rows]
    unknown = np.isnan(dense[texts])
    # HNSW: texts the search did not return are scored exactly (tens of thousands a call at
    # 100,000 citizens), in a worker while relevance vectorises the lexical side; relevance
    # collects them (``settle_similarities``) before it reads ``raw``.
    pending = None
    if unknown.any():
        wanted = np.zeros(len(dense), dtype=np.bool_)  # sorted distinct ids, without a sort
        wanted[texts[unknown]] = True
        pending = _EXACT_POOL.submit(request.similarity.score_texts, np.flatnonzero(wanted))
    frame = CandidateFrame(
        slots=slots,
        counts=counts,
        rows=rows,
        texts=texts,
        positions=positions,
        holders=role_masks,
        is_holder=is_holder_slot[slots],
        retrieved=len(retrieved),
        role_holders=int(is_holder_slot.sum()),
        dense=dense,
        pending=pending,
    )
    if pending is None:
        frame.settle_similarities()
    return frame
