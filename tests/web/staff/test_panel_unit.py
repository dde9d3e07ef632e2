"""The panel's quota table and swaps, and the call draft's payload (pure functions)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from convene_web.staff import calls
from convene_web.staff.gateway import (
    Candidate,
    Invitation,
    MatchResult,
    PanelMember,
    Perspective,
    Unmet,
)
from convene_web.staff.panel import SwapError, quota_table, swap

CALL = uuid.uuid4()


def candidate(ref: str, score: float, roles: list[str]) -> Candidate:
    return Candidate(ref=ref, score=score, evidence=[], roles=roles)


MATCH = MatchResult(
    call_id=CALL,
    candidates=[
        candidate("c_a", 0.9, ["cyclist"]),
        candidate("c_b", 0.8, ["cab-driver"]),
        candidate("c_c", 0.7, []),
        candidate("c_d", 0.6, ["cyclist"]),
        candidate("c_e", 0.5, ["cab-driver"]),
    ],
    panel=[
        PanelMember(ref="c_a", fills=["cyclist"]),
        PanelMember(ref="c_b", fills=["cab-driver"]),
        PanelMember(ref="c_c", fills=["relevance"]),
    ],
    unmet=[Unmet(role="carer", wanted=1, found=0, reason="nobody eligible holds it")],
)


def test_a_swap_prefers_the_next_best_who_fills_the_same_perspective() -> None:
    swapped, coming = swap(MATCH, ref="c_a")
    assert coming == "c_d"  # c_c is ranked higher but fills no cyclist place
    assert [m.ref for m in swapped.panel] == ["c_d", "c_b", "c_c"]
    assert swapped.panel[0].fills == ["cyclist"]
    swapped, coming = swap(MATCH, ref="c_c")
    assert coming == "c_d"
    assert swapped.panel[2].fills == ["relevance"]


def test_a_swap_of_someone_not_on_the_panel_or_with_nobody_left_is_refused() -> None:
    with pytest.raises(SwapError, match="not on the panel"):
        swap(MATCH, ref="c_z")
    small = MATCH.model_copy(update={"candidates": MATCH.candidates[:3]})
    with pytest.raises(SwapError, match="Nobody else"):
        swap(small, ref="c_a")


def test_quota_table_counts_panel_and_accepted_and_says_why_short() -> None:
    accepted = Invitation(
        id=uuid.uuid4(), call_id=CALL, ref="c_a", status="accepted", fills=["cyclist"],
        invited_at=datetime.now(UTC),
    )  # fmt: skip
    rows = quota_table(
        perspectives=[
            Perspective(role="cyclist", min=2, max=3),
            Perspective(role="cab-driver", min=1, max=500),
            Perspective(role="carer", min=1, max=2),
        ],
        match=MATCH,
        invitations=[accepted],
    )
    assert [(r.role, r.wanted, r.in_panel, r.accepted, r.short) for r in rows] == [
        ("cyclist", "2 to 3", 1, 1, 1),
        ("cab-driver", "at least 1", 1, 0, 0),
        ("carer", "1 to 2", 0, 0, 1),
    ]
    assert rows[0].reason == "Not enough eligible people hold this perspective"
    assert rows[2].reason == "nobody eligible holds it"


def test_a_complete_draft_gives_the_api_payload() -> None:
    draft: dict[str, object] = {"done": []}
    today = date(2026, 12, 2)
    for slug, form in {
        "what-you-need": {"title": "Bike lanes", "description": "Tell us", "skills": "a\n\nb"},
        "perspectives": {"role-1": "cyclist", "min-1": "2"},
        "place": {"authority_code": "e08000003"},
        "languages": {"languages": "en, CY"},
        "time": {"deadline-day": "1", "deadline-month": "2", "deadline-year": "2027",
                 "panel_size": "4"},
    }.items():  # fmt: skip
        values, errors = calls.read_section(slug, form, today=today)
        assert errors == {}, slug
        draft.update(values)
    body = calls.payload(draft)
    assert body["skills"] == [{"label": "a"}, {"label": "b"}]
    assert body["perspectives"] == [{"role": "cyclist", "min": 2, "max": 500}]
    assert body["place"] == {"authority_code": "E08000003"}
    assert body["languages"] == ["en", "cy"]
    assert body["deadline"] == "2027-02-01T23:59:00+00:00"
    assert body["confidentiality"] == "public"
    assert body["hours"] is None
