"""Hard filters, one at a time (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from convene_matcher.routing.filters import CallFilter, haversine_km, reject_reason
from convene_matcher.routing.names import organisation_key, role_key
from tests.matcher.routing.citizens import BOLTON, LONDON, MANCHESTER, SALFORD, snapshot

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
    access_offered=frozenset({"step-free access"}),
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


def test_language_and_access() -> None:
    assert reject_reason(snapshot(languages=["cy"]), BASE, invitations_this_month=0) == "language"
    assert reject_reason(snapshot(languages=["cy", "EN"]), BASE, invitations_this_month=0) is None
    no_languages = replace(BASE, languages=frozenset())
    assert reject_reason(snapshot(languages=[]), no_languages, invitations_this_month=0) is None
    needs = snapshot(access_needs=["Step-free access", "BSL interpreter"])
    assert reject_reason(needs, BASE, invitations_this_month=0) == "access"
    met = snapshot(access_needs=["Step-free access"])
    assert reject_reason(met, BASE, invitations_this_month=0) is None


def test_role_names_compare_normalised() -> None:
    assert role_key("Cab-driver") == role_key("cab  driver") == role_key("CAB_DRIVER")
