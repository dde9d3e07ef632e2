"""Stage 5: the score of every eligible candidate, the few kept for the panel, and their
explained ``Scored`` records.

    similarity      = similarity_weight x relevance (stage 3)
    verified_badges = verified_badge_bonus x matched, unexpired verified badges (at most 2)
    rating          = rating_weight x (rating - 3) / 2 (unrated: 0), the rating decayed at
                      the call's time: (3 x 2 + sum w_i r_i) / (2 + sum w_i),
                      w_i = 0.5 ** (age_i / rating_half_life_days); a citizen whose feed
                      carries no dated rating keeps profiles' aggregate
    locality        = locality_weight x (1 at the call's centre .. 0 at its radius; 1 in its
                      authority; 0 without a call place)
    track_record    = track_record_weight x min(1, ln(1 + on-topic items) /
                      ln(1 + TRACK_RECORD_REFERENCE)), on-topic items = the candidate's
                      evidence items whose (damped) similarity to the call reaches
                      min_similarity: how much they have done and said in the call's area
    exposure        = (sum of the above) x (1 / (1 + exposure_damping x excess /
                      exposure_scale) - 1), excess = invitations in the exposure window above
                      the eligible candidates' median: the "usual suspects" are damped.
"""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

from convene_matcher.citizens.store import CitizenRecord, CitizenStore
from convene_matcher.routing.explain import EVIDENCE_SHOWN
from convene_matcher.routing.filters import FILTER_REASONS
from convene_matcher.routing.frame import (
    CandidateFrame,
    Float64s,
    Int64s,
    RoleSummary,
    RouteRequest,
    Scored,
)
from convene_matcher.scoring import Hit, MatchingConfig, citizen_relevance, item_weight

MAX_VERIFIED_BADGES = 2
# Profiles' rating prior (ratings.scoring.RatingPolicy): a mean of 3 weighted as two ratings.
RATING_PRIOR_MEAN = 3.0
RATING_PRIOR_WEIGHT = 2.0
# Panel selection sees the best POOL_FACTOR x panel_size candidates (at most
# candidate_pool_size) plus, per wanted role, its best POOL_FACTOR x panel_size holders.
POOL_FACTOR = 3
SECONDS_PER_DAY = 86_400.0
# On-topic evidence items at which the track-record term is full (ln-scaled below it).
TRACK_RECORD_REFERENCE = 100


def tie_key(citizen_id: str, *, salt: str) -> bytes:
    return hashlib.sha256(f"{salt}:{citizen_id}".encode()).digest()[:8]


def decayed_ratings(store: CitizenStore, frame: CandidateFrame, request: RouteRequest) -> Float64s:
    """Per candidate, the rating aggregate at the call's time (NaN: unrated)."""
    arrays, n = store.arrays, frame.size
    aggregate = arrays.rating[frame.slots].astype(np.float64)
    slots, values, times = arrays.ratings.view()
    live = slots >= 0
    index = np.full(arrays.capacity, -1, dtype=np.int64)
    index[frame.slots] = np.arange(n)
    owner = np.where(live, index[np.maximum(slots, 0)], -1)
    ours = owner >= 0
    owner, values, times = owner[ours], values[ours].astype(np.float64), times[ours]
    has_dated = np.bincount(owner, minlength=n) > 0
    counted = np.ones(len(owner), dtype=np.bool_)
    if request.evidence_before is not None:
        counted = times < request.evidence_before.timestamp()
    now = request.call_filter.now.timestamp()
    age_days = np.maximum(now - times[counted], 0.0) / SECONDS_PER_DAY
    weight = 0.5 ** (age_days / request.config.rating_half_life_days)
    weights = np.bincount(owner[counted], weights=weight, minlength=n)
    weighted = np.bincount(owner[counted], weights=weight * values[counted], minlength=n)
    rated = np.bincount(owner[counted], minlength=n) > 0
    decayed = (RATING_PRIOR_MEAN * RATING_PRIOR_WEIGHT + weighted) / (RATING_PRIOR_WEIGHT + weights)
    result: Float64s = np.where(has_dated, np.where(rated, decayed, np.nan), aggregate)
    return result


def exposure_factors(
    window: Int64s, eligible: npt.NDArray[np.bool_], request: RouteRequest
) -> Float64s:
    config = request.config
    typical = float(np.median(window[eligible])) if eligible.any() else 0.0
    factor: Float64s = 1 / (
        1 + config.exposure_damping * np.maximum(0.0, window - typical) / config.exposure_scale
    )
    return factor


def track_record(frame: CandidateFrame, config: MatchingConfig) -> Float64s:
    """Per candidate, the track-record term: ln-scaled count of their on-topic items."""
    n = frame.size
    if config.track_record_weight == 0 or not len(frame.rows):
        return np.zeros(n, dtype=np.float64)
    on_topic = frame.raw * frame.damping >= config.min_similarity
    segment = np.repeat(np.arange(n), frame.counts)
    count = np.bincount(segment[on_topic], minlength=n).astype(np.float64)
    scaled = np.minimum(1.0, np.log1p(count) / np.log1p(TRACK_RECORD_REFERENCE))
    term: Float64s = config.track_record_weight * scaled
    return term


def score_frame(store: CitizenStore, frame: CandidateFrame, request: RouteRequest) -> None:
    """Fills ``eligible``, ``rating`` (the rating term), ``track``, ``factor`` and ``score``."""
    config = request.config
    frame.eligible = (frame.reason == 0) & (
        frame.is_holder | (frame.relevance >= config.min_similarity)
    )
    rating = decayed_ratings(store, frame, request)
    rated = ~np.isnan(rating) & (rating != 0)
    frame.rating = np.where(
        rated, config.rating_weight * ((np.nan_to_num(rating) - RATING_PRIOR_MEAN) / 2), 0.0
    )
    frame.track = track_record(frame, config)
    base = (
        config.similarity_weight * frame.relevance
        + config.verified_badge_bonus * np.minimum(frame.verified, MAX_VERIFIED_BADGES)
        + frame.rating
        + frame.track
        + config.locality_weight * frame.locality
    )
    frame.factor = exposure_factors(frame.window, frame.eligible, request)
    frame.score = base + np.where(base > 0, base * (frame.factor - 1), 0.0)


def _best(indices: Int64s, quantised: Int64s, count: int) -> Int64s:
    """The indices whose quantised score is among the best ``count`` (ties at the edge kept)."""
    if len(indices) <= count:
        return indices
    values = quantised[indices]
    edge = np.partition(-values, count - 1)[count - 1]
    best: Int64s = indices[-values <= edge]
    return best


def pick(frame: CandidateFrame, request: RouteRequest) -> tuple[Int64s, dict[str, RoleSummary]]:
    """The candidates worth explaining (the shortlist and the panel's pool, and each wanted
    role's best holders) and, per wanted role, how many holders the filters left."""
    config, call = request.config, request.call
    quantised = np.round(frame.score / config.tie_tolerance).astype(np.int64)
    pool_size = min(config.candidate_pool_size, POOL_FACTOR * call.panel_size)
    eligible = np.flatnonzero(frame.eligible)
    picked = [_best(eligible, quantised, max(config.shortlist_size, pool_size))]
    summaries: dict[str, RoleSummary] = {}
    for role, is_role in frame.holders.items():
        picked.append(
            _best(
                np.flatnonzero(is_role & frame.eligible), quantised, POOL_FACTOR * call.panel_size
            )
        )
        role_reasons = np.bincount(frame.reason[is_role], minlength=len(FILTER_REASONS) + 1)
        summaries[role] = RoleSummary(
            total=int(is_role.sum()),
            available=int((is_role & (frame.reason == 0)).sum()),
            rejected={
                name: int(role_reasons[code])
                for code, name in enumerate(FILTER_REASONS, start=1)
                if role_reasons[code]
            },
        )
    return np.unique(np.concatenate(picked)), summaries


def rescore(
    store: CitizenStore, frame: CandidateFrame, request: RouteRequest, selected: Int64s
) -> list[Scored]:
    """The selected candidates as ``Scored`` (score parts, hits for the explanation, roles),
    with the shared Python functions where they are cheap for a few.

    A candidate's hits are its best EVIDENCE_SHOWN, best first (similarity x damping x
    item weight, ties in item order), the ones its explanation shows: their order comes
    from the frame's columns and only their items are built, all candidates' in one pass.
    Building every item of every selected candidate (about 1,600 a call at 100,000
    citizens) was two thirds of the GIL-holding samples of four routes at once. A candidate
    damped by "not my expertise" feedback keeps all its hits: its undamped relevance is
    recomputed from them."""
    arrays, config = store.arrays, request.config
    starts = np.cumsum(frame.counts) - frame.counts
    relevance_text = request.query_text if frame.lexical_used else None
    now = request.call_filter.now.timestamp()
    keys = frame.raw.astype(np.float64) * frame.damping * frame.item_weights
    damped_rows = frame.damping != 1.0
    picked: list[tuple[int, str, CitizenRecord, Int64s | None]] = []
    wanted: list[npt.NDArray[np.int32]] = []
    for i in selected.tolist():
        owner = arrays.slot_citizen[int(frame.slots[i])]
        record = store.get(owner) if owner else None
        if record is None or owner is None:
            continue
        start, end = int(starts[i]), int(starts[i] + frame.counts[i])
        if damped_rows[start:end].any():
            picked.append((i, owner, record, None))
            continue
        shown: Int64s = start + np.argsort(-keys[start:end], kind="stable")[:EVIDENCE_SHOWN]
        picked.append((i, owner, record, shown))
        wanted.append(record.item_id_array[frame.positions[shown]])
    built = iter(store.items_by_id(np.concatenate(wanted)) if wanted else [])
    scored: list[Scored] = []
    for i, owner, record, best in picked:
        similarity = config.similarity_weight * float(frame.relevance[i])
        declined = 0.0
        if best is not None:
            hits = [Hit(next(built), float(frame.raw[r]), float(frame.damping[r])) for r in best]
        else:
            items = store.items_of(owner)
            span = range(int(starts[i]), int(starts[i] + frame.counts[i]))
            hits = [
                Hit(items[int(frame.positions[r])], float(frame.raw[r]), float(frame.damping[r]))
                for r in span
            ]
            # The vectorised relevance is citizen_relevance(hits, query_text) (tests hold the
            # two equal); recomputing it in Python per hit would cost more than this step.
            undamped = [Hit(hit.item, hit.similarity) for hit in hits]
            declined = similarity - config.similarity_weight * citizen_relevance(
                undamped, config=config, query_text=relevance_text, now=now
            )
            hits.sort(key=lambda h: -h.similarity * h.factor * item_weight(h.item, config, now=now))
        badge_bonus = config.verified_badge_bonus * min(int(frame.verified[i]), MAX_VERIFIED_BADGES)
        local = config.locality_weight * float(frame.locality[i])
        rating = float(frame.rating[i])
        track = float(frame.track[i])
        base = similarity + badge_bonus + rating + track + local
        exposure = base * (float(frame.factor[i]) - 1) if base > 0 else 0.0
        scored.append(
            Scored(
                citizen_id=owner,
                score=base + exposure,
                adjustments={
                    "similarity": similarity,
                    "verified_badges": badge_bonus,
                    "rating": rating,
                    "track_record": track,
                    "locality": local,
                    "exposure": exposure,
                    "not_my_expertise": declined,
                },
                hits=hits,
                roles=[role for role, mask in frame.holders.items() if mask[i]],
                affiliations=arrays.organisations_of(record.slot),
                access_needs=arrays.access_needs.get(record.slot, frozenset()),
            )
        )
    return scored


def rank(scored: list[Scored], request: RouteRequest) -> list[Scored]:
    """Best first; scores within ``tie_tolerance`` ordered by the salted tie key."""
    tolerance = request.config.tie_tolerance
    keys = [(-round(s.score / tolerance), tie_key(s.citizen_id, salt=request.salt)) for s in scored]
    order = sorted(range(len(scored)), key=keys.__getitem__)
    return [scored[i] for i in order]
