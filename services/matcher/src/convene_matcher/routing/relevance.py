"""Stage 3: relevance of each candidate over all their items, vectorised.

Level- and kind-weighted item similarities, damped by the citizen's own "not my expertise"
declines, mixed with the lexical similarity to the call text: the rule of
``scoring.citizen_relevance`` for many citizens at once (tests hold the two equal)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

import numpy as np
import numpy.typing as npt

from convene_matcher.citizens.arrays import KIND_CODE, KINDS
from convene_matcher.citizens.postings import TextPostings
from convene_matcher.citizens.store import CitizenStore
from convene_matcher.evidence.items import LEVELS
from convene_matcher.invitations.feedback import evidence_factor
from convene_matcher.routing.frame import (
    CandidateFrame,
    Float64s,
    FloatArray,
    Int64s,
    RouteRequest,
)
from convene_matcher.scoring import MatchingConfig
from convene_matcher.scoring.config import RATINGS
from convene_matcher.scoring.lexical import lexical_vector
from convene_matcher.scoring.relevance import SECONDS_PER_DAY, record_weights

# Citizens with more items than this get their top-k in a (rare) Python step.
_PADDED_WIDTH = 32


def level_weight_table(config: MatchingConfig) -> FloatArray:
    """Weight by level code (LEVELS order); the last entry (code -1) is non-skill items: 1."""
    return np.array([*(config.level_weights.get(level, 1.0) for level in LEVELS), 1.0], np.float32)


def kind_weight_table(config: MatchingConfig) -> FloatArray:
    """Weight by evidence kind code (KINDS order): ``item_weight``'s kind factor."""
    return np.array([config.kind_weights.get(kind, 1.0) for kind in KINDS], np.float32)


def contribution_weight_table(config: MatchingConfig) -> FloatArray:
    """Weight by an item's rating code: 0 (not a rated contribution) 1, then ratings 1-5."""
    weights = config.contribution_rating_weights
    return np.array([1.0, *(weights[rating] for rating in RATINGS)], np.float32)


def contribution_weights(
    ratings: npt.NDArray[np.int8], dated: Float64s, *, config: MatchingConfig, now: float
) -> FloatArray:
    """Per item row, ``scoring.item_weight``'s contribution factor: the rating's weight
    decayed by the rating's age at ``now`` (1 for items that are not rated contributions)."""
    weights = contribution_weight_table(config)[ratings]
    rated = (ratings > 0) & np.isfinite(dated)
    if rated.any():
        age_days = np.maximum(now - dated[rated], 0.0) / SECONDS_PER_DAY
        weights[rated] *= (0.5 ** (age_days / config.rating_half_life_days)).astype(np.float32)
    return weights


def top_k_mean(values: FloatArray, counts: Int64s, *, top_k: int) -> FloatArray:
    """Per segment (consecutive runs of ``counts``) the mean of its top_k values (fewer: of
    those; none: 0): ``scoring.aggregate_top_k`` for many citizens at once."""
    n = len(counts)
    out = np.zeros(n, dtype=np.float32)
    if n == 0 or not len(values):
        return out
    starts = np.zeros(n, dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    width = int(min(max(int(counts.max()), 1), _PADDED_WIDTH))
    k = min(top_k, width)
    # One sweep over item positions keeping each citizen's k best in k sorted columns (a
    # few whole-array max/min per position): 3x faster than np.partition on (n, width).
    best = [np.full(n, -np.inf, dtype=np.float32) for _ in range(k)]
    last = len(values) - 1
    for position in range(width):
        x = values[np.minimum(starts + position, last)]
        x[counts <= position] = -np.inf
        for j in range(k):
            higher = np.maximum(best[j], x)
            np.minimum(best[j], x, out=x)
            best[j] = higher
    total = np.zeros(n, dtype=np.float64)
    for column in best:
        total += np.where(np.isfinite(column), column, 0.0)
    np.divide(total, np.maximum(np.minimum(counts, k), 1), out=total)
    out[:] = total
    for i in np.flatnonzero(counts > _PADDED_WIDTH).tolist():
        run = values[starts[i] : starts[i] + counts[i]].astype(np.float64)
        out[i] = np.partition(run, len(run) - top_k)[len(run) - top_k :].mean()
    return out


def mixed_relevance(
    similarities: FloatArray,
    lexical: FloatArray | None,
    weights: FloatArray,
    counts: Int64s,
    *,
    config: MatchingConfig,
) -> FloatArray:
    """Per citizen (runs of ``counts`` item rows): ``scoring.citizen_relevance`` with the
    call text: (1 - lexical_weight) x top-k mean of weighted cosines + lexical_weight x top-k
    mean of weighted lexical similarities (cosines alone without ``lexical``)."""
    relevance = top_k_mean(similarities * weights, counts, top_k=config.top_k)
    if lexical is None or config.lexical_weight == 0:
        return relevance
    lexical_relevance = top_k_mean(lexical * weights, counts, top_k=config.top_k)
    mixed: FloatArray = (
        (1 - config.lexical_weight) * relevance + config.lexical_weight * lexical_relevance
    ).astype(np.float32)
    return mixed


def feedback_factors(
    store: CitizenStore,
    feedback: Mapping[tuple[str, str], int],
    row_slots: Int64s,
    row_texts: Int64s,
    size: int,
) -> FloatArray:
    """Per item row, the "not my expertise" damping (invitations.feedback) of its citizen's
    declines naming its text; 1 where there are none."""
    factors = np.ones(len(row_texts), dtype=np.float32)
    if not feedback or not len(row_texts):
        return factors
    keyed: dict[int, float] = {}
    for (citizen_id, text), declines in feedback.items():
        record = store.get(citizen_id)
        text_id = store.text_id(text)
        if record is not None and text_id is not None:
            key = record.slot * size + text_id
            keyed[key] = min(keyed.get(key, 1.0), evidence_factor(declines))
    if not keyed:
        return factors
    row_keys = row_slots * size + row_texts
    wanted = np.fromiter(keyed, dtype=np.int64, count=len(keyed))
    for row in np.flatnonzero(np.isin(row_keys, wanted)).tolist():
        factors[row] = keyed[int(row_keys[row])]
    return factors


def lexical_by_text(
    store: CitizenStore, text_ids: Int64s, query_text: str, size: int, *, config: MatchingConfig
) -> FloatArray:
    """Lexical similarity (scoring.lexical) of each given distinct text to the call text, by
    text id (0 elsewhere): like the dense similarities, once per distinct text, not per item.
    The postings are the store's (one per IDF floor)."""
    return lexical_postings(store, config=config).similarities(
        store.text, text_ids, query_text, size
    )


def lexical_postings(store: CitizenStore, *, config: MatchingConfig) -> TextPostings:
    """The store's lexical postings under this configuration's IDF floor."""
    floor = float(config.lexical_idf_floor)
    return store.postings(("lexical", floor), partial(lexical_vector, idf_floor=floor))


def fill_lexical_postings(store: CitizenStore, *, config: MatchingConfig, chunk: int = 500) -> int:
    """Vectorises every live text the postings have not met (blocking; the bench's snapshot
    build). Returns how many were vectorised."""
    postings = lexical_postings(store, config=config)
    with store.lock.read():  # the feed mutates the store on the event loop
        ids = store.text_ids()
    return sum(
        postings.fill(store.text, ids[start : start + chunk]) for start in range(0, len(ids), chunk)
    )


def code_matches(store: CitizenStore, frame: CandidateFrame, codes: frozenset[str]) -> FloatArray:
    """Per item row, 1 where the item is a skill whose code is one of the call's wanted
    skill codes (exact, case-insensitive); 0 elsewhere."""
    matches = np.zeros(len(frame.rows), dtype=np.float32)
    if not codes or not len(frame.rows):
        return matches
    wanted = [store.arrays.code_ids.find(code.casefold()) for code in codes]
    wanted = [code for code in wanted if code >= 0]
    if wanted:
        matches[np.isin(store.arrays.item_code[frame.rows], wanted)] = 1.0
    return matches


def score_relevance(store: CitizenStore, frame: CandidateFrame, request: RouteRequest) -> None:
    """Fills ``damping``, ``relevance`` and ``verified`` (matched verified badges, unexpired
    at the call's time) of the frame."""
    arrays, config = store.arrays, request.config
    size, n = len(frame.dense), frame.size
    lexical: FloatArray | None = None
    if config.lexical_weight > 0 and request.query_text is not None and n:
        # While the exact scores candidate_frame started are computed beside it.
        # The distinct texts through a mask and each row's place among them: arrays by
        # text id (1.16M at 100,000 citizens) are zeroed and read whole only as bytes.
        is_present = np.zeros(size, dtype=np.bool_)
        is_present[frame.texts] = True
        present = np.flatnonzero(is_present)
        place = np.empty(size, dtype=np.int64)  # read only at present texts
        place[present] = np.arange(len(present))
        lexical = lexical_postings(store, config=config).scores_of(
            store.text, present, request.query_text
        )[place[frame.texts]]
        frame.lexical_used = True
    frame.settle_similarities()
    frame.damping = feedback_factors(
        store, request.feedback, np.repeat(frame.slots, frame.counts), frame.texts, size
    )
    kinds = arrays.item_kind[frame.rows]
    frame.item_weights = (
        level_weight_table(config)[arrays.item_level[frame.rows]]
        * kind_weight_table(config)[kinds]
        * contribution_weights(
            arrays.item_rating[frame.rows],
            arrays.item_dated[frame.rows],
            config=config,
            now=request.call_filter.now.timestamp(),
        )
        * record_weights(
            kinds,
            arrays.item_signal[frame.rows],
            arrays.item_verified[frame.rows],
            past_response_code=KIND_CODE["past_response"],
            answer_code=KIND_CODE["answer"],
            config=config,
        )
    )
    weights = frame.item_weights * frame.damping
    similarities = frame.raw
    codes = frozenset(s.code for s in request.call.skills if s.code)
    if codes and config.skill_code_bonus:
        # An exact code match counts as a near-certain similarity: the cosine gets the bonus.
        similarities = np.minimum(
            1.0, similarities + config.skill_code_bonus * code_matches(store, frame, codes)
        ).astype(np.float32)
        frame.raw = similarities
    frame.relevance = mixed_relevance(similarities, lexical, weights, frame.counts, config=config)
    segment = np.repeat(np.arange(n), frame.counts)
    now = request.call_filter.now.timestamp()
    expires = arrays.item_expires[frame.rows]
    verified = (
        (arrays.item_kind[frame.rows] == KIND_CODE["badge"])
        & arrays.item_verified[frame.rows]
        & ~(expires <= now)  # NaN: never expires
        & (frame.raw * frame.damping >= config.min_similarity)
    )
    frame.verified = np.bincount(segment[verified], minlength=n)
