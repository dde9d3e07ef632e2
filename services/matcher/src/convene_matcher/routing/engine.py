"""Routing's computation, apart from I/O: retrieve, filter, score, select, explain.

``route`` runs in a worker thread holding the read side of ``CitizenStore.lock`` (routes
run concurrently; the feed's store mutations wait for them), over the store's numpy columns
(``citizens.arrays``), never a Python loop per candidate:

1. similarity of every distinct evidence text to the call (one matrix product while the index
   is exact; an HNSW search plus exact scores for the texts it did not return beyond);
2. retrieval: texts in descending similarity until they cover ``retrieval_depth`` items (the
   same "top items" as an item index, without a vector per item), their citizens, plus every
   holder of a wanted role;
3. relevance of each candidate over all their items: level-weighted, mean of the top_k
   (the rule of ``scoring.citizen_relevance``, vectorised; tests hold the two equal);
4. hard filters as boolean columns in ``filters.reject_reason``'s order (the rare unavailable
   periods and access needs are checked in Python for the citizens who have them);
5. score (below) for every eligible candidate; the best ``shortlist`` and, per wanted role, the
   best ``POOL_FACTOR x panel_size`` holders are then scored again with the shared Python
   functions (``citizen_relevance`` over ``Hit``s) and explained;
6. panel selection over that small pool (CP-SAT only when quotas or caps bind).

Score (each part is reported in ``adjustments``):

    similarity      = similarity_weight x top-k mean of the citizen's level-weighted item
                      similarities (scoring.citizen_relevance, the rule /v1/affinity uses)
    verified_badges = verified_badge_bonus x matched verified badges (similarity at least
                      min_similarity; at most 2)
    rating          = rating_weight x (Bayesian rating score - 3) / 2 (unrated: 0)
    locality        = locality_weight x (1 at the call's centre .. 0 at its radius; 1 in its
                      authority; 0 without a call place)
    exposure        = (sum of the above) x (1 / (1 + exposure_damping x excess /
                      exposure_scale) - 1), excess = invitations in the exposure window above
                      the eligible candidates' median: the "usual suspects" are damped.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from convene_matcher.calls.schemas import CallRead
from convene_matcher.citizens.arrays import KIND_CODE, KINDS, CitizenArrays, block_rows
from convene_matcher.citizens.store import CitizenStore
from convene_matcher.evidence.items import LEVELS
from convene_matcher.invitations.feedback import evidence_factor
from convene_matcher.panel import PanelCandidate, PanelResult, Quota, select_panel
from convene_matcher.routing.filters import (
    EARTH_RADIUS_KM,
    FILTER_REASONS,
    CallFilter,
)
from convene_matcher.routing.names import BODY_STAFF_ROLE, organisation_key, role_key
from convene_matcher.scoring import (
    Hit,
    MatchingConfig,
    citizen_relevance,
    item_weight,
)
from convene_matcher.scoring.lexical import lexical_vector

FloatArray = npt.NDArray[np.float32]
Int64s = npt.NDArray[np.int64]
MAX_VERIFIED_BADGES = 2
EVIDENCE_SHOWN = 3
# Panel selection sees the best POOL_FACTOR x panel_size candidates (at most
# candidate_pool_size) plus, per wanted role, its best POOL_FACTOR x panel_size holders.
POOL_FACTOR = 3
# Citizens with more items than this get their top-k in a (rare) Python step.
_PADDED_WIDTH = 32


def warm_up() -> None:
    """Pays at start-up what the first routed call would (about half a second): the lexical
    frequency tables and OR-Tools' CP-SAT. Blocking."""
    lexical_vector("warm up the general English frequency tables", idf_floor=4.0)
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


def call_filter(call: CallRead, *, now: datetime) -> CallFilter:
    place = call.place
    return CallFilter(
        now=now,
        deadline=call.deadline,
        conflicts=frozenset(organisation_key(name) for name in call.conflicts),
        body=organisation_key(call.public_body_name),
        body_staff_allowed=any(role_key(p.role) == BODY_STAFF_ROLE for p in call.perspectives),
        authority_code=place.authority_code if place else None,
        lat=place.lat if place else None,
        lon=place.lon if place else None,
        radius_km=place.radius_km if place else None,
        languages=frozenset(language.casefold() for language in call.languages),
        access_offered=frozenset(a.casefold() for a in call.access_offered),
    )


def tie_key(citizen_id: str, *, salt: str) -> bytes:
    return hashlib.sha256(f"{salt}:{citizen_id}".encode()).digest()[:8]


@dataclass(frozen=True, slots=True)
class RoleSummary:
    total: int  # live holders
    available: int  # holders passing every filter
    rejected: dict[str, int]  # filter reason -> holders it removed


@dataclass(slots=True)
class Scored:
    citizen_id: str
    score: float
    adjustments: dict[str, float]
    hits: list[Hit]
    roles: list[str]
    affiliations: frozenset[str]


def _count_phrase(count: int, role: str) -> str:
    return f"{count} {role} {'is' if count == 1 else 'are'}"


def unmet_quotas(
    *, call: CallRead, roles: Mapping[str, RoleSummary], panel: PanelResult
) -> list[dict[str, object]]:
    """A human reason for each role whose min the panel does not reach."""
    place = call.place
    where = ""
    if place is not None and place.radius_km is not None:
        where = f" within {place.radius_km:g} km"
    elif place is not None and place.authority_code is not None:
        where = f" in {place.authority_code}"
    unmet: list[dict[str, object]] = []
    for perspective in call.perspectives:
        missing = panel.shortfall.get(perspective.role, 0)
        if missing <= 0:
            continue
        found = perspective.min - missing
        summary = roles.get(perspective.role, RoleSummary(0, 0, {}))
        breakdown = ", ".join(
            f"{summary.rejected[name]} by {name.replace('_', ' ')}"
            for name in FILTER_REASONS
            if summary.rejected.get(name)
        )
        if summary.total == 0:
            reason_text = f"nobody holds the role {perspective.role!r}"
        elif summary.available == 0:
            reason_text = (
                f"all {summary.total} holders of the role {perspective.role!r} were filtered"
                f" out ({breakdown})"
            )
        else:
            reason_text = (
                f"only {_count_phrase(summary.available, perspective.role)} available{where}"
            )
            if breakdown:
                reason_text += f"; filtered out: {breakdown}"
            if summary.available >= perspective.min:
                reason_text += "; role maxima or affiliation caps kept the others off the panel"
        unmet.append(
            {
                "role": perspective.role,
                "wanted": perspective.min,
                "found": found,
                "reason": reason_text,
            }
        )
    return unmet


def explain(scored: Scored, *, config: MatchingConfig) -> list[dict[str, object]]:
    shown: list[dict[str, object]] = []
    for hit in scored.hits[:EVIDENCE_SHOWN]:
        entry: dict[str, object] = {
            "kind": hit.item.kind,
            "text": hit.item.text,
            "similarity": round(hit.similarity, 4),
        }
        if hit.item.kind == "badge":
            entry["verified"] = bool(hit.item.attributes.get("verified"))
        if hit.item.kind == "skill":
            entry["level"] = hit.item.attributes.get("level")
        shown.append(entry)
    return shown


# -- vectorised routing -----------------------------------------------------------------


@dataclass(slots=True)
class Routed:
    ranked: list[Scored]  # the best eligible candidates (shortlist + role picks), best first
    panel: PanelResult
    roles: dict[str, RoleSummary]
    retrieved: int
    role_holders: int
    eligible: int
    filtered: dict[str, int] = field(default_factory=dict)


TextScorer = Callable[[Int64s], tuple[Int64s, FloatArray]]


def haversine_km_array(
    lat: float, lon: float, lats: npt.NDArray[np.float64], lons: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    phi1, phi2 = np.radians(lat), np.radians(lats)
    d_phi = phi2 - phi1
    d_lambda = np.radians(lons - lon)
    a = np.sin(d_phi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(d_lambda / 2) ** 2
    result: npt.NDArray[np.float64] = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
    return result


def level_weight_table(config: MatchingConfig) -> FloatArray:
    """Weight by level code (LEVELS order); the last entry (code -1) is non-skill items: 1."""
    return np.array([*(config.level_weights.get(level, 1.0) for level in LEVELS), 1.0], np.float32)


def kind_weight_table(config: MatchingConfig) -> FloatArray:
    """Weight by evidence kind code (KINDS order): ``item_weight``'s kind factor."""
    return np.array([config.kind_weights.get(kind, 1.0) for kind in KINDS], np.float32)


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


def _text_similarities(
    text_ids: Int64s, text_scores: FloatArray, size: int
) -> tuple[FloatArray, Int64s]:
    """Dense similarity by text id (NaN: not scored) and the text ids best first."""
    dense = np.full(size, np.nan, dtype=np.float32)
    dense[text_ids] = text_scores
    order = text_ids[np.argsort(-text_scores, kind="stable")]
    return dense, order


def _retrieve(store: CitizenStore, ordered_texts: Int64s, depth: int) -> tuple[list[int], int]:
    """Texts, best first, until their items cover ``depth``; and how many items they cover."""
    chosen: list[int] = []
    covered = 0
    for text_id in ordered_texts.tolist():
        if covered >= depth:
            break
        refs = store.text_refs(text_id)
        if refs:
            chosen.append(text_id)
            covered += refs
    return chosen, covered


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


class LexicalPostings:
    """The lexical vectors (scoring.lexical) of the store's distinct texts, inverted (word ->
    text ids and weights), filled as texts are first met; thread-safe. A call's lexical
    similarity to every text is then a walk over its own few words' postings. Text ids are
    never reused, so an entry never goes stale (a dropped text's postings are never read:
    no candidate row names it)."""

    def __init__(self, idf_floor: float) -> None:
        self.idf_floor = idf_floor
        self._known = np.zeros(0, dtype=np.bool_)
        self._postings: dict[str, tuple[list[int], list[float]]] = {}
        self._arrays: dict[str, tuple[Int64s, FloatArray]] = {}
        self._lock = threading.Lock()

    def similarities(
        self, store: CitizenStore, text_ids: Int64s, query_text: str, size: int
    ) -> FloatArray:
        """By text id (0 elsewhere), the lexical similarity of the given texts to the query."""
        with self._lock:
            if len(self._known) < size:
                self._known = np.concatenate(
                    (self._known, np.zeros(size - len(self._known), dtype=np.bool_))
                )
            for text_id in text_ids[~self._known[text_ids]].tolist():
                self._known[text_id] = True
                text = store.text(text_id)
                if text is None:
                    continue
                for word, weight in lexical_vector(text, idf_floor=self.idf_floor).items():
                    ids, weights = self._postings.setdefault(word, ([], []))
                    ids.append(text_id)
                    weights.append(weight)
                    self._arrays.pop(word, None)
            dense = np.zeros(size, dtype=np.float64)
            for word, weight in lexical_vector(query_text, idf_floor=self.idf_floor).items():
                posting = self._arrays.get(word)
                if posting is None:
                    found = self._postings.get(word)
                    if found is None:
                        continue
                    posting = (
                        np.asarray(found[0], dtype=np.int64),
                        np.asarray(found[1], dtype=np.float32),
                    )
                    self._arrays[word] = posting
                dense[posting[0]] += weight * posting[1]
        result: FloatArray = np.clip(dense, 0.0, 1.0).astype(np.float32)
        return result


_lexical_postings: weakref.WeakKeyDictionary[CitizenStore, LexicalPostings] = (
    weakref.WeakKeyDictionary()
)
_lexical_postings_lock = threading.Lock()


def lexical_by_text(
    store: CitizenStore, text_ids: Int64s, query_text: str, size: int, *, config: MatchingConfig
) -> FloatArray:
    """Lexical similarity (scoring.lexical) of each given distinct text to the call text, by
    text id (0 elsewhere): like the dense similarities, once per distinct text, not per item."""
    floor = float(config.lexical_idf_floor)
    with _lexical_postings_lock:
        postings = _lexical_postings.get(store)
        if postings is None or postings.idf_floor != floor:
            postings = _lexical_postings[store] = LexicalPostings(floor)
    return postings.similarities(store, text_ids, query_text, size)


def _order(citizens: list[str], quantised: list[int], *, salt: str) -> list[int]:
    keys = [(-q, tie_key(c, salt=salt)) for c, q in zip(citizens, quantised, strict=True)]
    return sorted(range(len(citizens)), key=keys.__getitem__)


def _best(indices: Int64s, quantised: npt.NDArray[np.int64], count: int) -> Int64s:
    """The indices whose quantised score is among the best ``count`` (ties at the edge kept)."""
    if len(indices) <= count:
        return indices
    values = quantised[indices]
    edge = np.partition(-values, count - 1)[count - 1]
    best: Int64s = indices[-values <= edge]
    return best


def route(
    call: CallRead,
    *,
    call_filter: CallFilter,
    store: CitizenStore,
    all_text_scores: Callable[[], tuple[Int64s, FloatArray]] | None,
    search_texts: Callable[[int], tuple[Int64s, FloatArray]],
    score_texts: TextScorer,
    invitations: Mapping[str, tuple[int, int]],
    salt: str,
    config: MatchingConfig,
    query_text: str | None = None,
    feedback: Mapping[tuple[str, str], int] | None = None,
) -> Routed:
    """Blocking: run in a worker. ``all_text_scores`` (exact index) or ``search_texts(k)``
    give text similarities (best over the queries); ``score_texts`` scores given text ids."""
    with store.lock.read():
        return _route(
            call,
            cf=call_filter,
            store=store,
            arrays=store.arrays,
            all_text_scores=all_text_scores,
            search_texts=search_texts,
            score_texts=score_texts,
            invitations=invitations,
            salt=salt,
            config=config,
            query_text=query_text,
            feedback=feedback or {},
        )


def _route(
    call: CallRead,
    *,
    cf: CallFilter,
    store: CitizenStore,
    arrays: CitizenArrays,
    all_text_scores: Callable[[], tuple[Int64s, FloatArray]] | None,
    search_texts: Callable[[int], tuple[Int64s, FloatArray]],
    score_texts: TextScorer,
    invitations: Mapping[str, tuple[int, int]],
    salt: str,
    config: MatchingConfig,
    query_text: str | None,
    feedback: Mapping[tuple[str, str], int],
) -> Routed:
    size = store.next_text_id
    depth = config.retrieval_depth
    # 1-2. text similarities and retrieval
    if all_text_scores is not None:
        ids, scores = all_text_scores()
        dense, ordered = _text_similarities(ids, scores, size)
        chosen, _ = _retrieve(store, ordered, depth)
    else:
        k = 256
        while True:
            ids, scores = search_texts(k)
            dense, ordered = _text_similarities(ids, scores, size)
            chosen, covered = _retrieve(store, ordered, depth)
            if covered >= depth or len(ids) < k or k >= store.text_count:
                break
            k *= 4
    retrieved = arrays.slots_of_texts(chosen)

    holders: dict[str, Int64s] = {}
    for perspective in call.perspectives:
        if role_key(perspective.role) == BODY_STAFF_ROLE:
            holders[perspective.role] = arrays.affiliated(frozenset({cf.body}), employer_only=True)
        else:
            holders[perspective.role] = arrays.role_holders(perspective.role)
    # Slot masks instead of set operations on sorted arrays (tens of thousands of holders).
    is_holder_slot = np.zeros(arrays.capacity, dtype=np.bool_)
    for role_slots in holders.values():
        is_holder_slot[role_slots] = True
    any_holder_slots = np.flatnonzero(is_holder_slot)
    is_candidate_slot = is_holder_slot.copy()
    is_candidate_slot[retrieved] = True
    is_candidate_slot &= arrays.alive[: arrays.capacity]
    cands = np.flatnonzero(is_candidate_slot)
    n = len(cands)

    # 3. relevance over every item of every candidate
    counts = arrays.item_count[cands].astype(np.int64)
    rows = block_rows(arrays.item_start[cands], counts)
    texts = arrays.item_text[rows]
    raw = dense[texts]
    unknown = np.isnan(raw)
    if unknown.any():  # HNSW: texts the search did not return are scored exactly
        found, exact = score_texts(np.unique(texts[unknown]))
        dense[found] = exact
        raw = dense[texts]
    raw = np.nan_to_num(raw, nan=0.0)
    damping = feedback_factors(store, feedback, np.repeat(cands, counts), texts, size)
    weights = (
        level_weight_table(config)[arrays.item_level[rows]]
        * kind_weight_table(config)[arrays.item_kind[rows]]
        * damping
    )
    lexical: FloatArray | None = None
    if config.lexical_weight > 0 and query_text is not None and n:
        present = np.flatnonzero(np.bincount(texts, minlength=size))
        lexical = lexical_by_text(store, present, query_text, size, config=config)
    relevance = mixed_relevance(
        raw, None if lexical is None else lexical[texts], weights, counts, config=config
    )
    segment = np.repeat(np.arange(n), counts)
    verified = (
        (arrays.item_kind[rows] == KIND_CODE["badge"])
        & arrays.item_verified[rows]
        & (raw * damping >= config.min_similarity)
    )
    verified_count = np.bincount(segment[verified], minlength=n)

    # 4. filters, as reject_reason orders them
    month = np.zeros(n, dtype=np.int64)
    window = np.zeros(n, dtype=np.int64)
    if invitations:
        invited_slots, months, windows = [], [], []
        for citizen_id, (this_month, in_window) in invitations.items():
            record = store.get(citizen_id)
            if record is not None:
                invited_slots.append(record.slot)
                months.append(this_month)
                windows.append(in_window)
        where = np.searchsorted(cands, invited_slots)
        where = np.minimum(where, max(n - 1, 0))
        hit = cands[where] == np.asarray(invited_slots, dtype=np.int64) if n else []
        month[where[hit]] = np.asarray(months)[hit]
        window[where[hit]] = np.asarray(windows)[hit]
    fail_consent = ~arrays.consent[cands]
    fail_availability = np.zeros(n, dtype=np.bool_)
    fail_access = np.zeros(n, dtype=np.bool_)
    for i in np.flatnonzero(arrays.python_checks[cands]).tolist():
        slot = int(cands[i])
        periods = arrays.unavailable.get(slot, ())
        fail_availability[i] = any(s < cf.deadline and e > cf.now for s, e in periods)
        needs = arrays.access_needs.get(slot, frozenset())
        fail_access[i] = any(need not in cf.access_offered for need in needs)
    cap = arrays.cap[cands]
    fail_cap = (cap >= 0) & (month >= cap)
    conflicted = arrays.affiliated(cf.conflicts, employer_only=False)
    if not cf.body_staff_allowed:
        conflicted = np.union1d(
            conflicted, arrays.affiliated(frozenset({cf.body}), employer_only=True)
        )
    conflicted_slot = np.zeros(arrays.capacity, dtype=np.bool_)
    conflicted_slot[conflicted] = True
    fail_conflict = conflicted_slot[cands]
    locality = np.zeros(n, dtype=np.float64)
    fail_place = np.zeros(n, dtype=np.bool_)
    if cf.has_place:
        locality = np.full(n, np.nan)
        if cf.radius_km is not None and cf.lat is not None and cf.lon is not None:
            lats, lons = arrays.lat[cands], arrays.lon[cands]
            with np.errstate(invalid="ignore"):
                distance = haversine_km_array(cf.lat, cf.lon, lats, lons)
                inside = distance <= cf.radius_km
            locality[inside] = 1.0 - distance[inside] / cf.radius_km
        if cf.authority_code is not None:
            code = arrays.authority_ids.find(cf.authority_code.casefold())
            if code >= 0:
                locality[arrays.authority[cands] == code] = 1.0
        fail_place = np.isnan(locality)
        locality = np.nan_to_num(locality, nan=0.0)
    fail_language = np.zeros(n, dtype=np.bool_)
    if cf.languages:
        mask = np.zeros(arrays.languages.shape[1], dtype=np.uint64)
        for language in cf.languages:
            bit = arrays.language_ids.find(language)
            if 0 <= bit < 64 * len(mask):
                mask[bit // 64] |= np.uint64(1 << (bit % 64))
        fail_language = np.asarray(~(arrays.languages[cands] & mask).any(axis=1))
    fails = {
        "consent": fail_consent,
        "availability": fail_availability,
        "invitation_cap": fail_cap,
        "conflict": fail_conflict,
        "place": fail_place,
        "language": fail_language,
        "access": fail_access,
    }
    reason = np.select([fails[name] for name in FILTER_REASONS], range(1, 8), default=0)
    is_holder = is_holder_slot[cands]
    eligible = (reason == 0) & (is_holder | (relevance >= config.min_similarity))

    # 5. scores of every eligible candidate
    rating = arrays.rating[cands].astype(np.float64)
    rated = ~np.isnan(rating) & (rating != 0)
    rating_term = np.where(rated, config.rating_weight * ((np.nan_to_num(rating) - 3) / 2), 0.0)
    base = (
        config.similarity_weight * relevance
        + config.verified_badge_bonus * np.minimum(verified_count, MAX_VERIFIED_BADGES)
        + rating_term
        + config.locality_weight * locality
    )
    typical = float(np.median(window[eligible])) if eligible.any() else 0.0
    factor = 1 / (
        1 + config.exposure_damping * np.maximum(0.0, window - typical) / config.exposure_scale
    )
    score = base + np.where(base > 0, base * (factor - 1), 0.0)
    quantised = np.round(score / config.tie_tolerance).astype(np.int64)

    pool_size = min(config.candidate_pool_size, POOL_FACTOR * call.panel_size)
    eligible_idx = np.flatnonzero(eligible)
    picked = [_best(eligible_idx, quantised, max(config.shortlist_size, pool_size))]
    holder_masks: dict[str, npt.NDArray[np.bool_]] = {}
    summaries: dict[str, RoleSummary] = {}
    for role, role_slots in holders.items():
        role_slot_mask = np.zeros(arrays.capacity, dtype=np.bool_)
        role_slot_mask[role_slots] = True
        is_role = role_slot_mask[cands]
        holder_masks[role] = is_role
        picked.append(
            _best(np.flatnonzero(is_role & eligible), quantised, POOL_FACTOR * call.panel_size)
        )
        role_reasons = np.bincount(reason[is_role], minlength=8)
        summaries[role] = RoleSummary(
            total=int(is_role.sum()),
            available=int((is_role & (reason == 0)).sum()),
            rejected={
                name: int(role_reasons[code])
                for code, name in enumerate(FILTER_REASONS, start=1)
                if role_reasons[code]
            },
        )
    selected = np.unique(np.concatenate(picked))

    # 6. the shared scoring functions over the few selected, then the panel
    scored: list[Scored] = []
    for i in selected.tolist():
        owner = arrays.slot_citizen[int(cands[i])]
        record = store.get(owner) if owner else None
        if record is None or owner is None:
            continue
        citizen_id = owner
        hits = [
            Hit(
                item,
                float(dense[item.text_id]),
                evidence_factor(feedback.get((citizen_id, item.text), 0)),
            )
            for item in store.items_of(citizen_id)
        ]
        relevance_text = query_text if lexical is not None else None
        # The vectorised relevance is citizen_relevance(hits, query_text) (tests hold the two
        # equal); recomputing it in Python per hit would cost more than the rest of this step.
        similarity = config.similarity_weight * float(relevance[i])
        declined = 0.0
        if any(hit.factor != 1.0 for hit in hits):
            undamped = [Hit(hit.item, hit.similarity) for hit in hits]
            declined = similarity - config.similarity_weight * citizen_relevance(
                undamped, config=config, query_text=relevance_text
            )
        badges = int(verified_count[i])
        badge_bonus = config.verified_badge_bonus * min(badges, MAX_VERIFIED_BADGES)
        local = config.locality_weight * float(locality[i])
        one_base = similarity + badge_bonus + float(rating_term[i]) + local
        exposure = one_base * (float(factor[i]) - 1) if one_base > 0 else 0.0
        scored.append(
            Scored(
                citizen_id=citizen_id,
                score=one_base + exposure,
                adjustments={
                    "similarity": similarity,
                    "verified_badges": badge_bonus,
                    "rating": float(rating_term[i]),
                    "locality": local,
                    "exposure": exposure,
                    "not_my_expertise": declined,
                },
                hits=sorted(
                    hits, key=lambda h: -h.similarity * h.factor * item_weight(h.item, config)
                ),
                roles=[role for role, mask in holder_masks.items() if mask[i]],
                affiliations=arrays.organisations_of(record.slot),
            )
        )
    tolerance = config.tie_tolerance
    order = _order(
        [s.citizen_id for s in scored], [round(s.score / tolerance) for s in scored], salt=salt
    )
    ranked = [scored[i] for i in order]
    pool: list[Scored] = ranked[:pool_size]
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
    panel = select_panel(
        [PanelCandidate(s.citizen_id, s.score, frozenset(s.roles), s.affiliations) for s in pool],
        quotas=[Quota(p.role, p.min, p.max) for p in call.perspectives],
        panel_size=call.panel_size,
        max_affiliation_share=config.max_affiliation_share,
        time_limit_seconds=config.panel_solver_time_limit_seconds,
    )
    panel.members.sort(key=lambda c: position[c])
    reasons = np.bincount(reason, minlength=8)
    return Routed(
        ranked=ranked,
        panel=panel,
        roles=summaries,
        retrieved=len(retrieved),
        role_holders=len(any_holder_slots),
        eligible=int(eligible.sum()),
        filtered={
            name: int(reasons[code])
            for code, name in enumerate(FILTER_REASONS, start=1)
            if reasons[code]
        },
    )
