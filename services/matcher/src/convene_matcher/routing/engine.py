"""Routing's computation, apart from I/O: gather, filter, score, select, explain.

``gather`` and ``apply_filters`` read the citizen store and must run on the event loop without
awaiting in between (the store is mutated on the loop between awaits); they copy what later
steps need into plain, immutable values, so ``rank_and_select`` can run in a worker thread.

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
                      the candidates' median: the "usual suspects" are damped, others not.
"""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from convene_matcher.calls.schemas import CallRead
from convene_matcher.citizens.schemas import MatchSnapshot
from convene_matcher.citizens.store import CitizenStore
from convene_matcher.panel import PanelCandidate, PanelResult, Quota, select_panel
from convene_matcher.routing.filters import (
    FILTER_REASONS,
    CallFilter,
    FilterReason,
    is_body_staff,
    locality,
    reject_reason,
)
from convene_matcher.routing.names import BODY_STAFF_ROLE, organisation_key, role_key
from convene_matcher.routing.roles import RoleIndex
from convene_matcher.scoring import Hit, MatchingConfig, citizen_relevance, item_weight

FloatArray = npt.NDArray[np.float32]
MAX_VERIFIED_BADGES = 2
EVIDENCE_SHOWN = 3


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


@dataclass(slots=True)
class Gathered:
    hits: dict[str, list[Hit]]
    holders: dict[str, frozenset[str]]  # quota role (as the call names it) -> citizen ids
    snapshots: dict[str, MatchSnapshot]
    role_holders_total: dict[str, int]


def best_item_similarities(scores: FloatArray, ids: npt.NDArray[np.int64]) -> dict[int, float]:
    """Each retrieved item's best similarity over the queries."""
    best: dict[int, float] = {}
    for score, item_id in zip(scores.ravel().tolist(), ids.ravel().tolist(), strict=True):
        if item_id >= 0 and score > best.get(item_id, -2.0):
            best[item_id] = score
    return best


def gather(
    call: CallRead,
    *,
    store: CitizenStore,
    roles: RoleIndex,
    similarities: Mapping[int, float],
    body: str,
) -> Gathered:
    """Retrieved citizens with their hits, plus every holder of a wanted role. On the loop."""
    hits: dict[str, list[Hit]] = {}
    for item_id, similarity in similarities.items():
        item = store.item(item_id)
        if item is not None:
            hits.setdefault(item.citizen_id, []).append(Hit(item, similarity))
    snapshots: dict[str, MatchSnapshot] = {}
    for citizen_id in hits:
        record = store.get(citizen_id)
        if record is not None:
            snapshots[citizen_id] = record.snapshot
    holders: dict[str, frozenset[str]] = {}
    totals: dict[str, int] = {}
    for perspective in call.perspectives:
        if role_key(perspective.role) == BODY_STAFF_ROLE:
            staff = frozenset(c for c, s in snapshots.items() if is_body_staff(s, body=body))
            holders[perspective.role] = staff
            totals[perspective.role] = len(staff)
            continue
        ids = roles.holders(perspective.role)
        live = frozenset(c for c in ids if c in store)
        holders[perspective.role] = live
        totals[perspective.role] = len(live)
        for citizen_id in live:
            if citizen_id not in snapshots:
                record = store.get(citizen_id)
                if record is not None:
                    snapshots[citizen_id] = record.snapshot
    return Gathered(hits, holders, snapshots, totals)


@dataclass(slots=True)
class Filtered:
    eligible: list[str]
    rejected: dict[str, FilterReason]
    localities: dict[str, float]


def apply_filters(
    gathered: Gathered,
    *,
    call: CallFilter,
    invitations_this_month: Mapping[str, int],
    config: MatchingConfig,
) -> Filtered:
    """Hard filters, then the relevance cut-off for citizens holding no wanted role."""
    any_holder: set[str] = set().union(*gathered.holders.values()) if gathered.holders else set()
    eligible: list[str] = []
    rejected: dict[str, FilterReason] = {}
    localities: dict[str, float] = {}
    for citizen_id, snapshot in gathered.snapshots.items():
        reason = reject_reason(
            snapshot, call, invitations_this_month=invitations_this_month.get(citizen_id, 0)
        )
        if reason is not None:
            rejected[citizen_id] = reason
            continue
        if citizen_id not in any_holder:
            relevance = citizen_relevance(gathered.hits.get(citizen_id, []), config=config)
            if relevance < config.min_similarity:
                continue
        eligible.append(citizen_id)
        localities[citizen_id] = (locality(snapshot, call) or 0.0) if call.has_place else 0.0
    return Filtered(eligible, rejected, localities)


def tie_key(citizen_id: str, *, salt: str) -> bytes:
    return hashlib.sha256(f"{salt}:{citizen_id}".encode()).digest()[:8]


@dataclass(slots=True)
class Scored:
    citizen_id: str
    score: float
    adjustments: dict[str, float]
    hits: list[Hit]
    roles: list[str]
    affiliations: frozenset[str]


@dataclass(slots=True)
class Selection:
    ranked: list[Scored]  # every eligible candidate, best first
    panel: PanelResult
    unmet: list[dict[str, object]] = field(default_factory=list)


def score_candidates(
    gathered: Gathered,
    filtered: Filtered,
    *,
    window_invitations: Mapping[str, int],
    config: MatchingConfig,
) -> list[Scored]:
    counts = [window_invitations.get(c, 0) for c in filtered.eligible]
    typical = statistics.median(counts) if counts else 0
    scored: list[Scored] = []
    for citizen_id in filtered.eligible:
        snapshot = gathered.snapshots[citizen_id]
        hits = gathered.hits.get(citizen_id, [])
        similarity = config.similarity_weight * citizen_relevance(hits, config=config)
        verified = sum(
            1
            for hit in hits
            if hit.item.kind == "badge"
            and hit.item.attributes.get("verified")
            and hit.similarity >= config.min_similarity
        )
        badge_bonus = config.verified_badge_bonus * min(verified, MAX_VERIFIED_BADGES)
        rating_score = snapshot.rating.score
        rating = config.rating_weight * ((rating_score - 3) / 2) if rating_score else 0.0
        local = config.locality_weight * filtered.localities.get(citizen_id, 0.0)
        base = similarity + badge_bonus + rating + local
        excess = max(0.0, window_invitations.get(citizen_id, 0) - typical)
        factor = 1 / (1 + config.exposure_damping * excess / config.exposure_scale)
        exposure = base * (factor - 1) if base > 0 else 0.0
        roles = [role for role, ids in gathered.holders.items() if citizen_id in ids]
        scored.append(
            Scored(
                citizen_id=citizen_id,
                score=base + exposure,
                adjustments={
                    "similarity": similarity,
                    "verified_badges": badge_bonus,
                    "rating": rating,
                    "locality": local,
                    "exposure": exposure,
                },
                hits=sorted(hits, key=lambda h: -h.similarity * item_weight(h.item, config)),
                roles=roles,
                affiliations=frozenset(
                    organisation_key(a.organisation) for a in snapshot.affiliations
                ),
            )
        )
    return scored


def rank_and_select(
    scored: list[Scored],
    *,
    call: CallRead,
    salt: str,
    config: MatchingConfig,
) -> Selection:
    """Orders candidates (near-equal scores by the seeded key), then selects the panel."""
    tolerance = config.tie_tolerance
    ranked = sorted(
        scored,
        key=lambda s: (-round(s.score / tolerance), tie_key(s.citizen_id, salt=salt)),
    )
    pool: list[Scored] = list(ranked[: config.candidate_pool_size])
    in_pool = {s.citizen_id for s in pool}
    for perspective in call.perspectives:
        taken = 0
        for candidate in ranked:
            if taken >= call.panel_size:
                break
            if perspective.role in candidate.roles:
                taken += 1
                if candidate.citizen_id not in in_pool:
                    in_pool.add(candidate.citizen_id)
                    pool.append(candidate)
    position = {s.citizen_id: i for i, s in enumerate(ranked)}
    pool.sort(key=lambda s: position[s.citizen_id])
    quotas = [Quota(p.role, p.min, p.max) for p in call.perspectives]
    panel = select_panel(
        [PanelCandidate(s.citizen_id, s.score, frozenset(s.roles), s.affiliations) for s in pool],
        quotas=quotas,
        panel_size=call.panel_size,
        max_affiliation_share=config.max_affiliation_share,
        time_limit_seconds=config.panel_solver_time_limit_seconds,
    )
    panel.members.sort(key=lambda c: position[c])
    return Selection(ranked=ranked, panel=panel)


def _count_phrase(count: int, role: str) -> str:
    return f"{count} {role} {'is' if count == 1 else 'are'}"


def unmet_quotas(
    *,
    call: CallRead,
    gathered: Gathered,
    filtered: Filtered,
    panel: PanelResult,
) -> list[dict[str, object]]:
    """A human reason for each role whose min the panel does not reach."""
    place = call.place
    where = ""
    if place is not None and place.radius_km is not None:
        where = f" within {place.radius_km:g} km"
    elif place is not None and place.authority_code is not None:
        where = f" in {place.authority_code}"
    eligible = set(filtered.eligible)
    unmet: list[dict[str, object]] = []
    for perspective in call.perspectives:
        missing = panel.shortfall.get(perspective.role, 0)
        if missing <= 0:
            continue
        found = perspective.min - missing
        holders = gathered.holders.get(perspective.role, frozenset())
        available = len(holders & eligible)
        reasons: dict[str, int] = {}
        for citizen_id in holders:
            reason = filtered.rejected.get(citizen_id)
            if reason is not None:
                reasons[reason] = reasons.get(reason, 0) + 1
        breakdown = ", ".join(
            f"{reasons[name]} by {name.replace('_', ' ')}"
            for name in FILTER_REASONS
            if name in reasons
        )
        total = gathered.role_holders_total.get(perspective.role, 0)
        if total == 0:
            reason_text = f"nobody holds the role {perspective.role!r}"
        elif available == 0:
            reason_text = (
                f"all {total} holders of the role {perspective.role!r} were filtered out"
                f" ({breakdown})"
            )
        else:
            reason_text = f"only {_count_phrase(available, perspective.role)} available{where}"
            if breakdown:
                reason_text += f"; filtered out: {breakdown}"
            if available >= perspective.min:
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


def similarities_for(item_vectors: FloatArray, query_vectors: FloatArray) -> Iterable[float]:
    """Each item's best similarity over the queries."""
    if item_vectors.shape[0] == 0:
        return []
    matrix = item_vectors @ query_vectors.T
    result: list[float] = matrix.max(axis=1).tolist()
    return result


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


def eligible_without_hits(gathered: Gathered, filtered: Filtered, *, limit: int) -> list[str]:
    """Eligible role holders not retrieved by similarity (to be scored over their items)."""
    missing = [c for c in filtered.eligible if c not in gathered.hits]
    return sorted(missing)[:limit]


__all__ = [
    "Filtered",
    "Gathered",
    "Scored",
    "Selection",
    "apply_filters",
    "best_item_similarities",
    "call_filter",
    "eligible_without_hits",
    "explain",
    "gather",
    "query_texts",
    "rank_and_select",
    "score_candidates",
    "similarities_for",
    "tie_key",
    "unmet_quotas",
]
