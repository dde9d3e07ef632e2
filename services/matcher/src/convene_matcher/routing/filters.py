"""Stage 4, the hard filters: who may not be routed a call at all, and why (vectorised over
the candidate frame; the one implementation, tested in tests/matcher/routing/test_filters.py).

A citizen passes when, in this order (the first failure is the reason recorded):

- ``consent``: they consented to be matched;
- ``availability``: none of their unavailable periods overlaps [now, deadline];
- ``invitation_cap``: this calendar month's invitations (all bodies) are below their
  ``max_invitations_per_month`` (no cap set: no limit);
- ``conflict``: no affiliation (any kind) names one of the call's declared conflicts, and no
  employer affiliation names the posting body, unless the call has a ``body staff``
  perspective (then they may join within its max); organisation names are compared
  normalised (``names.organisation_key``);
- ``place``: inside the call's radius (haversine from their lat/lon; no coordinates: outside
  every radius) or in the call's authority (``authority_code``, case-insensitive); with both
  given, either suffices; a call without a place accepts everyone;
- ``language``: shares a language when the call lists languages;
- ``access``: none of their access needs is one the body said it cannot offer
  (``access_not_offered``). Access needs accommodate, they never exclude by default: the
  match shows the body what its panel needs instead (``explain.panel_needs``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Literal

import numpy as np
import numpy.typing as npt

from convene_matcher.calls.schemas import CallRead
from convene_matcher.citizens.store import CitizenStore
from convene_matcher.routing.frame import CallFilter, CandidateFrame
from convene_matcher.routing.names import BODY_STAFF_ROLE, organisation_key, role_key

__all__ = ["EARTH_RADIUS_KM", "FILTER_REASONS", "CallFilter", "apply_filters", "call_filter"]

FilterReason = Literal[
    "consent", "availability", "invitation_cap", "conflict", "place", "language", "access"
]
FILTER_REASONS: tuple[FilterReason, ...] = (
    "consent",
    "availability",
    "invitation_cap",
    "conflict",
    "place",
    "language",
    "access",
)
EARTH_RADIUS_KM = 6371.0088


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
        access_not_offered=frozenset(a.casefold() for a in call.access_not_offered),
    )


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def haversine_km_array(
    lat: float, lon: float, lats: npt.NDArray[np.float64], lons: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    phi1, phi2 = np.radians(lat), np.radians(lats)
    d_phi = phi2 - phi1
    d_lambda = np.radians(lons - lon)
    a = np.sin(d_phi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(d_lambda / 2) ** 2
    result: npt.NDArray[np.float64] = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
    return result


def _invitation_counts(
    store: CitizenStore, frame: CandidateFrame, invitations: Mapping[str, tuple[int, int]]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Per candidate: (invitations this month, in the exposure window)."""
    n = frame.size
    month = np.zeros(n, dtype=np.int64)
    window = np.zeros(n, dtype=np.int64)
    if not invitations or not n:
        return month, window
    invited_slots, months, windows = [], [], []
    for citizen_id, (this_month, in_window) in invitations.items():
        record = store.get(citizen_id)
        if record is not None:
            invited_slots.append(record.slot)
            months.append(this_month)
            windows.append(in_window)
    where = np.minimum(np.searchsorted(frame.slots, invited_slots), n - 1)
    hit = frame.slots[where] == np.asarray(invited_slots, dtype=np.int64)
    month[where[hit]] = np.asarray(months, dtype=np.int64)[hit]
    window[where[hit]] = np.asarray(windows, dtype=np.int64)[hit]
    return month, window


def apply_filters(
    store: CitizenStore,
    frame: CandidateFrame,
    cf: CallFilter,
    invitations: Mapping[str, tuple[int, int]],
) -> None:
    """Fills ``reason`` (0: passes, else 1 + the FILTER_REASONS index of the first failure),
    ``locality`` (1 at the centre .. 0 at the radius; 1 in the authority) and ``window``."""
    arrays, cands, n = store.arrays, frame.slots, frame.size
    month, frame.window = _invitation_counts(store, frame, invitations)
    fail_consent = ~arrays.consent[cands]
    fail_availability = np.zeros(n, dtype=np.bool_)
    fail_access = np.zeros(n, dtype=np.bool_)
    # The rare unavailable periods and access needs are checked in Python for their holders.
    for i in np.flatnonzero(arrays.python_checks[cands]).tolist():
        slot = int(cands[i])
        periods = arrays.unavailable.get(slot, ())
        fail_availability[i] = any(s < cf.deadline and e > cf.now for s, e in periods)
        needs = arrays.access_needs.get(slot, frozenset())
        fail_access[i] = bool(needs & cf.access_not_offered)
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
            with np.errstate(invalid="ignore"):
                distance = haversine_km_array(cf.lat, cf.lon, arrays.lat[cands], arrays.lon[cands])
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
    frame.reason = np.select(
        [fails[name] for name in FILTER_REASONS], range(1, len(FILTER_REASONS) + 1), default=0
    ).astype(np.int64)
    frame.locality = locality


def reason_counts(reason: npt.NDArray[np.int64]) -> dict[str, int]:
    """Filter reason -> candidates it removed (reasons that removed nobody left out)."""
    counts = np.bincount(reason, minlength=len(FILTER_REASONS) + 1)
    return {
        name: int(counts[code]) for code, name in enumerate(FILTER_REASONS, start=1) if counts[code]
    }
