"""Hard filters: who may not be routed a call at all, and why (pure functions).

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
- ``access``: each of their access needs is among the call's ``access_offered``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from convene_matcher.citizens.schemas import MatchSnapshot
from convene_matcher.routing.names import organisation_key

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


@dataclass(frozen=True, slots=True)
class CallFilter:
    now: datetime
    deadline: datetime
    conflicts: frozenset[str]  # organisation keys
    body: str  # organisation key of the posting body
    body_staff_allowed: bool
    authority_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None
    languages: frozenset[str] = frozenset()
    access_offered: frozenset[str] = frozenset()

    @property
    def has_place(self) -> bool:
        return self.authority_code is not None or self.radius_km is not None


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def is_body_staff(snapshot: MatchSnapshot, *, body: str) -> bool:
    return any(
        a.kind == "employer" and organisation_key(a.organisation) == body
        for a in snapshot.affiliations
    )


def locality(snapshot: MatchSnapshot, call: CallFilter) -> float | None:
    """1 at the centre falling to 0 at the radius; 1 in the authority; None if outside."""
    place = snapshot.place
    best: float | None = None
    if call.radius_km is not None and call.lat is not None and call.lon is not None:
        if place is not None and place.lat is not None and place.lon is not None:
            distance = haversine_km(call.lat, call.lon, place.lat, place.lon)
            if distance <= call.radius_km:
                best = 1.0 - distance / call.radius_km
    if call.authority_code is not None and place is not None and place.authority_code:
        if place.authority_code.casefold() == call.authority_code.casefold():
            best = max(best or 0.0, 1.0)
    return best


def reject_reason(
    snapshot: MatchSnapshot, call: CallFilter, *, invitations_this_month: int
) -> FilterReason | None:
    if not snapshot.consent.matching:
        return "consent"
    for period in snapshot.availability.unavailable:
        if period.start < call.deadline and period.end > call.now:
            return "availability"
    cap = snapshot.availability.max_invitations_per_month
    if cap is not None and invitations_this_month >= cap:
        return "invitation_cap"
    for affiliation in snapshot.affiliations:
        organisation = organisation_key(affiliation.organisation)
        if organisation in call.conflicts:
            return "conflict"
        if (
            affiliation.kind == "employer"
            and organisation == call.body
            and not call.body_staff_allowed
        ):
            return "conflict"
    if call.has_place and locality(snapshot, call) is None:
        return "place"
    if call.languages and not call.languages.intersection(
        language.casefold() for language in snapshot.languages
    ):
        return "language"
    if any(need.casefold() not in call.access_offered for need in snapshot.access_needs):
        return "access"
    return None
