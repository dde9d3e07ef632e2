"""Panel selection: fast path, solver, and a brute-force optimality check on small instances."""

from __future__ import annotations

import itertools
import random

import pytest

from convene_matcher.panel import PanelCandidate, Quota, affiliation_cap, select_panel
from convene_matcher.panel.selection import is_feasible, objective


def sorted_best_first(candidates: list[PanelCandidate]) -> list[PanelCandidate]:
    return sorted(candidates, key=lambda c: (-c.score, c.key))


def test_top_k_is_kept_when_it_satisfies_every_quota() -> None:
    candidates = sorted_best_first(
        [
            PanelCandidate("a", 0.9, frozenset({"cyclist"})),
            PanelCandidate("b", 0.8),
            PanelCandidate("c", 0.7),
            PanelCandidate("d", 0.1, frozenset({"cyclist"})),
        ]
    )
    result = select_panel(
        candidates, quotas=[Quota("cyclist", 1, 2)], panel_size=3, max_affiliation_share=1.0
    )
    assert result.method == "top"
    assert result.members == ["a", "b", "c"]
    assert result.fills == {"a": ["cyclist"], "b": [], "c": []}
    assert result.shortfall == {}


def test_binding_min_quota_replaces_the_weakest_top_member() -> None:
    engineers = [PanelCandidate(f"e{i}", 0.9 - i / 100, frozenset({"engineer"})) for i in range(4)]
    cyclists = [PanelCandidate(f"c{i}", 0.5 - i / 100, frozenset({"cyclist"})) for i in range(3)]
    result = select_panel(
        sorted_best_first(engineers + cyclists),
        quotas=[Quota("cyclist", 2, 4), Quota("engineer", 0, 4)],
        panel_size=4,
        max_affiliation_share=1.0,
    )
    assert result.method == "solver"
    assert sorted(result.members) == ["c0", "c1", "e0", "e1"]
    assert result.shortfall == {}


def test_unsatisfiable_min_returns_best_panel_and_shortfall() -> None:
    candidates = sorted_best_first(
        [
            PanelCandidate("a", 0.9),
            PanelCandidate("b", 0.8),
            PanelCandidate("driver", 0.2, frozenset({"cab driver"})),
        ]
    )
    result = select_panel(
        candidates, quotas=[Quota("cab driver", 2, 3)], panel_size=3, max_affiliation_share=1.0
    )
    assert sorted(result.members) == ["a", "b", "driver"]
    assert result.shortfall == {"cab driver": 1}


def test_affiliation_cap_limits_one_organisation() -> None:
    metro = frozenset({"metro cabs"})
    candidates = sorted_best_first(
        [PanelCandidate(f"m{i}", 0.9 - i / 100, affiliations=metro) for i in range(4)]
        + [PanelCandidate("x", 0.1), PanelCandidate("y", 0.05)]
    )
    assert affiliation_cap(4, 0.5) == 2
    result = select_panel(candidates, quotas=[], panel_size=4, max_affiliation_share=0.5)
    assert sorted(result.members) == ["m0", "m1", "x", "y"]


def test_max_quota_may_leave_seats_empty() -> None:
    candidates = [PanelCandidate(f"d{i}", 0.5, frozenset({"cab driver"})) for i in range(3)]
    result = select_panel(
        candidates, quotas=[Quota("cab driver", 0, 1)], panel_size=3, max_affiliation_share=1.0
    )
    assert result.members == ["d0"]


def brute_force(
    candidates: list[PanelCandidate], *, quotas: list[Quota], panel_size: int, cap: int
) -> tuple[int, int, float]:
    best: tuple[int, int, float] | None = None
    for size in range(panel_size + 1):
        for subset in itertools.combinations(candidates, size):
            if not is_feasible(subset, quotas=quotas, panel_size=panel_size, cap=cap):
                continue
            value = objective(subset, quotas=quotas)
            key = (-value[0], value[1], value[2])
            if best is None or key > (-best[0], best[1], best[2]):
                best = value
    assert best is not None
    return best


@pytest.mark.parametrize("seed", range(40))
def test_selection_equals_brute_force_optimum(seed: int) -> None:
    rng = random.Random(seed)
    roles = ["planner", "cyclist", "cab driver"][: rng.randint(2, 3)]
    organisations = ["council", "metro cabs", "uni"]
    candidates = sorted_best_first(
        [
            PanelCandidate(
                f"p{i:02d}",
                round(rng.random(), 3),
                frozenset(r for r in roles if rng.random() < 0.3),
                frozenset(o for o in organisations if rng.random() < 0.25),
            )
            for i in range(12)
        ]
    )
    panel_size = rng.randint(2, 6)
    quotas = []
    for role in roles:
        low = rng.randint(0, 3)
        quotas.append(Quota(role, low, low + rng.randint(0, 2)))
    share = rng.choice([1.0, 0.5, 0.34])
    cap = affiliation_cap(panel_size, share)

    result = select_panel(
        candidates, quotas=quotas, panel_size=panel_size, max_affiliation_share=share
    )
    chosen = [c for c in candidates if c.key in set(result.members)]
    assert is_feasible(chosen, quotas=quotas, panel_size=panel_size, cap=cap)
    got = objective(chosen, quotas=quotas)
    best = brute_force(candidates, quotas=quotas, panel_size=panel_size, cap=cap)
    assert got[0] == best[0]
    assert got[1] == best[1]
    assert got[2] == pytest.approx(best[2], abs=1e-3)
    assert sum(result.shortfall.values()) == best[0]


def _naive_greedy(
    candidates: list[PanelCandidate], *, quotas: list[Quota], panel_size: int, cap: int
) -> list[str]:
    """The greedy fallback as first written: re-check the whole panel per candidate."""
    chosen: list[PanelCandidate] = []

    def fits(candidate: PanelCandidate) -> bool:
        return is_feasible([*chosen, candidate], quotas=quotas, panel_size=panel_size, cap=cap)

    for quota in quotas:
        for candidate in candidates:
            if sum(1 for c in chosen if quota.role in c.roles) >= quota.min:
                break
            if quota.role in candidate.roles and candidate not in chosen and fits(candidate):
                chosen.append(candidate)
    for candidate in candidates:
        if len(chosen) >= panel_size:
            break
        if candidate not in chosen and fits(candidate):
            chosen.append(candidate)
    order = {c.key: i for i, c in enumerate(candidates)}
    return [c.key for c in sorted(chosen, key=lambda c: order[c.key])]


def test_incremental_greedy_matches_the_naive_one_on_random_instances() -> None:
    from convene_matcher.panel.selection import _greedy

    rng = random.Random(13)
    roles = ["a", "b", "c", "d"]
    for _ in range(200):
        candidates = sorted_best_first(
            [
                PanelCandidate(
                    f"p{i}",
                    rng.random(),
                    frozenset(rng.sample(roles, rng.randint(0, 2))),
                    frozenset({f"org{rng.randint(0, 4)}"} if rng.random() < 0.7 else set()),
                )
                for i in range(rng.randint(1, 40))
            ]
        )
        quotas = [
            Quota(role, low, low + rng.randint(0, 4))
            for role in rng.sample(roles, rng.randint(0, 4))
            for low in [rng.randint(0, 3)]
        ]
        size = rng.randint(1, 12)
        cap = affiliation_cap(size, rng.choice([0.2, 0.34, 1.0]))
        got = [c.key for c in _greedy(candidates, quotas=quotas, panel_size=size, cap=cap)]
        assert got == _naive_greedy(candidates, quotas=quotas, panel_size=size, cap=cap)


def test_a_220_seat_panel_with_binding_quotas_is_chosen_within_the_time_limit() -> None:
    """schemathesis once had the gateway time out routing a 220-seat call: the panel step
    must stay bounded by the solver's time limit however large the panel."""
    import time

    rng = random.Random(1)
    roles = [f"role{i}" for i in range(8)]
    candidates = sorted_best_first(
        [
            PanelCandidate(
                f"c{i}",
                rng.random(),
                frozenset(rng.sample(roles, rng.randint(0, 2))),
                frozenset({f"org{rng.randint(0, 11)}"}),
            )
            for i in range(1_000)
        ]
    )
    quotas = [Quota(role, 60, 220) for role in roles[:4]]
    started = time.process_time()
    result = select_panel(
        candidates,
        quotas=quotas,
        panel_size=220,
        max_affiliation_share=0.34,
        time_limit_seconds=1.0,
    )
    cpu = time.process_time() - started
    assert result.method == "solver"
    assert len(result.members) == 220
    assert result.shortfall == {}
    chosen = [c for c in candidates if c.key in set(result.members)]
    assert is_feasible(chosen, quotas=quotas, panel_size=220, cap=affiliation_cap(220, 0.34))
    # The solver's 1 s limit (one worker) plus model building and the greedy hint.
    assert cpu < 2.5, cpu
