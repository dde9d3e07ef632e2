"""Hard filters, one at a time: routing's own vectorised filters (``filters.apply_filters``,
the one implementation) over a real citizen store (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from convene_matcher.citizens.arrays import block_rows
from convene_matcher.citizens.schemas import MatchSnapshot
from convene_matcher.citizens.store import CitizenStore
from convene_matcher.routing.filters import (
    FILTER_REASONS,
    CallFilter,
    FilterReason,
    apply_filters,
    haversine_km,
)
from convene_matcher.routing.frame import CandidateFrame
from convene_matcher.routing.names import organisation_key, role_key
from tests.matcher.routing.citizens import BOLTON, LONDON, MANCHESTER, SALFORD, snapshot


def filter_reasons(
    people: list[MatchSnapshot], call: CallFilter, *, invitations: dict[str, int] | None = None
) -> list[FilterReason | None]:
    """Each citizen's first failing filter (None: passes), from ``apply_filters``."""
    store = CitizenStore()
    for person in people:
        store.upsert(person)
    arrays = store.arrays
    slots = np.sort(
        np.array([store.get(p.citizen_id).slot for p in people], dtype=np.int64)  # type: ignore[union-attr]
    )
    counts = arrays.item_count[slots].astype(np.int64)
    rows = block_rows(arrays.item_start[slots], counts)
    frame = CandidateFrame(
        slots=slots,
        counts=counts,
        rows=rows,
        texts=arrays.item_text[rows],
        positions=np.zeros(len(rows), dtype=np.int64),
        holders={},
        is_holder=np.zeros(len(slots), dtype=np.bool_),
        retrieved=len(slots),
        role_holders=0,
        dense=np.zeros(store.next_text_id, dtype=np.float32),
    )
    counted = {c: (n, n) for c, n in (invitations or {}).items()}
    apply_filters(store, frame, call, counted)
    by_slot = dict(zip(slots.tolist(), frame.reason.tolist(), strict=True))
    reasons: list[FilterReason | None] = []
    for person in people:
        code = by_slot[store.get(person.citizen_id).slot]  # type: ignore[union-attr]
        reasons.append(None if code == 0 else FILTER_REASONS[code - 1])
    return reasons


def reject_reason(
    person: MatchSnapshot, call: CallFilter, *, invitations_this_month: int
) -> FilterReason | None:
    [reason] = filter_reasons(
        [person], call, invitations={person.citizen_id: invitations_this_month}
    )
    return reason


NOW = datetime(2025, 5, 10, tzinfo=UTC)
BASE = CallFilter(
    now=NOW,
    deadline=NOW + timedelta(days=20),
    conflicts=frozenset({organisation_key("Metro Cabs Ltd")}),
    body=organisation_key("Manchester City Council"),
    body_staff_allowed=False,
    lat=MANCHESTER[0],
    lon=MANCHESTER[1],
    radius_km=10,
    languages=frozenset({"en"}),
    access_not_offered=frozenset(),
)


def test_a_plain_citizen_passes() -> None:
    assert reject_reason(snapshot(), BASE, invitations_this_month=0) is None


def test_consent() -> None:
    assert reject_reason(snapshot(consent=False), BASE, invitations_this_month=0) == "consent"


@pytest.mark.parametrize(
    ("start", "end", "blocked"),
    [
        (NOW - timedelta(days=5), NOW + timedelta(days=1), True),
        (NOW + timedelta(days=19), NOW + timedelta(days=30), True),
        (NOW - timedelta(days=5), NOW - timedelta(days=1), False),
        (NOW + timedelta(days=21), NOW + timedelta(days=30), False),
    ],
)
def test_unavailable_periods_overlapping_now_to_deadline(
    start: datetime, end: datetime, blocked: bool
) -> None:
    person = snapshot(unavailable=[(start, end)])
    assert (reject_reason(person, BASE, invitations_this_month=0) == "availability") is blocked


def test_monthly_invitation_cap() -> None:
    person = snapshot(max_per_month=2)
    assert reject_reason(person, BASE, invitations_this_month=1) is None
    assert reject_reason(person, BASE, invitations_this_month=2) == "invitation_cap"
    assert reject_reason(snapshot(), BASE, invitations_this_month=50) is None  # no cap set


@pytest.mark.parametrize(
    ("organisation", "kind", "excluded"),
    [
        ("METRO CABS LIMITED", "commercial_interest", True),
        ("Metro Cabs", "board", True),
        ("Metro Cabs Ltd.", "employer", True),
        ("Metro Cabbies", "employer", False),
        ("Manchester City Council", "employer", True),
        ("Manchester City Council", "board", False),
    ],
)
def test_conflicts_of_interest(organisation: str, kind: str, excluded: bool) -> None:
    person = snapshot(affiliations=[(organisation, kind)])
    assert (reject_reason(person, BASE, invitations_this_month=0) == "conflict") is excluded


def test_body_staff_allowed_by_a_body_staff_perspective() -> None:
    staff = snapshot(affiliations=[("Manchester City Council", "employer")])
    allowed = replace(BASE, body_staff_allowed=True)
    assert reject_reason(staff, allowed, invitations_this_month=0) is None


def test_place_radius_and_authority() -> None:
    assert haversine_km(*MANCHESTER, *SALFORD) == pytest.approx(3.2, abs=0.3)
    assert reject_reason(snapshot(at=SALFORD), BASE, invitations_this_month=0) is None
    assert reject_reason(snapshot(at=BOLTON), BASE, invitations_this_month=0) == "place"
    assert reject_reason(snapshot(at=LONDON), BASE, invitations_this_month=0) == "place"
    assert reject_reason(snapshot(at=None), BASE, invitations_this_month=0) == "place"
    by_code = replace(BASE, lat=None, lon=None, radius_km=None, authority_code="e08000003")
    assert reject_reason(snapshot(at=LONDON), by_code, invitations_this_month=0) is None
    other = snapshot(at=LONDON, authority_code="E09000001")
    assert reject_reason(other, by_code, invitations_this_month=0) == "place"
    nowhere = replace(BASE, lat=None, lon=None, radius_km=None)
    assert reject_reason(snapshot(at=None), nowhere, invitations_this_month=0) is None


def test_language() -> None:
    assert reject_reason(snapshot(languages=["cy"]), BASE, invitations_this_month=0) == "language"
    assert reject_reason(snapshot(languages=["cy", "EN"]), BASE, invitations_this_month=0) is None
    assert reject_reason(snapshot(languages=[]), BASE, invitations_this_month=0) == "language"
    no_languages = replace(BASE, languages=frozenset())
    assert reject_reason(snapshot(languages=[]), no_languages, invitations_this_month=0) is None
    assert reject_reason(snapshot(languages=["cy"]), no_languages, invitations_this_month=0) is None


def test_access_needs_accommodate_instead_of_excluding() -> None:
    """A need the call does not list as offered removes nobody; only a need the body says
    it cannot offer (access_not_offered) does, compared case-insensitively."""
    needs = snapshot(access_needs=["Step-free access", "BSL interpreter"])
    assert reject_reason(needs, BASE, invitations_this_month=0) is None
    met = snapshot(access_needs=["Step-free access"])
    assert reject_reason(met, BASE, invitations_this_month=0) is None
    cannot = replace(BASE, access_not_offered=frozenset({"bsl interpreter"}))
    assert reject_reason(needs, cannot, invitations_this_month=0) == "access"
    assert reject_reason(met, cannot, invitations_this_month=0) is None
    assert reject_reason(snapshot(), cannot, invitations_this_month=0) is None


def test_the_first_failure_is_the_reason_for_many_citizens_at_once() -> None:
    cannot = replace(BASE, access_not_offered=frozenset({"bsl interpreter"}))
    people = [
        snapshot(),
        snapshot(consent=False, languages=["cy"]),
        snapshot(at=LONDON, languages=["cy"]),
        snapshot(languages=["cy"], access_needs=["BSL interpreter"]),
        snapshot(access_needs=["BSL interpreter"]),
        snapshot(max_per_month=1, at=BOLTON),
    ]
    invitations = {people[5].citizen_id: 1}
    assert filter_reasons(people, cannot, invitations=invitations) == [
        None,
        "consent",
        "place",
        "language",
        "access",
        "invitation_cap",
    ]


def test_role_names_compare_normalised() -> None:
    assert role_key("Cab-driver") == role_key("cab  driver") == role_key("CAB_DRIVER")
