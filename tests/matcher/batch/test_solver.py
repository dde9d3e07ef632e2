"""The batch solver against exhaustive search on small instances, caps, and the baseline."""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Mapping, Sequence

import pytest

from convene_matcher.batch.solver import (
    MIN_PANEL_SECONDS,
    SCORE_SCALE,
    BatchCall,
    BatchCandidate,
    CallPanel,
    cap_overruns,
    flow_shaped,
    sequential,
    solve_batch,
    violations,
)
from convene_matcher.panel import Quota


def brute_force(calls: Sequence[BatchCall], remaining: Mapping[str, int]) -> tuple[int, int, int]:
    """The best (-missing, seats, integer score) over every combination of valid panels."""
    options: list[list[tuple[frozenset[str], tuple[int, int, int]]]] = []
    for call in calls:
        valid: list[tuple[frozenset[str], tuple[int, int, int]]] = []
        for size in range(call.panel_size + 1):
            for combo in itertools.combinations(call.candidates, size):
                if violations(call, [c.citizen for c in combo]):
                    continue
                missing = sum(
                    max(0, q.min - sum(1 for c in combo if q.role in c.roles)) for q in call.quotas
                )
                score = sum(round(c.score * SCORE_SCALE) for c in combo)
                valid.append((frozenset(c.citizen for c in combo), (-missing, size, score)))
        options.append(valid)
    best: tuple[int, int, int] | None = None
    for choice in itertools.product(*options):
        seats: dict[str, int] = {}
        for members, _ in choice:
            for m in members:
                seats[m] = seats.get(m, 0) + 1
        if any(n > remaining.get(m, n) for m, n in seats.items()):
            continue
        total = (
            sum(o[0] for _, o in choice),
            sum(o[1] for _, o in choice),
            sum(o[2] for _, o in choice),
        )
        if best is None or total > best:
            best = total
    assert best is not None
    return best


def integer_objective(
    calls: Sequence[BatchCall], panels: Mapping[str, CallPanel]
) -> tuple[int, int, int]:
    missing = seats = score = 0
    for call in calls:
        panel = panels[call.key]
        members = set(panel.members)
        chosen = [c for c in call.candidates if c.citizen in members]
        seats += len(chosen)
        score += sum(round(c.score * SCORE_SCALE) for c in chosen)
        missing += sum(panel.shortfall.values())
    return -missing, seats, score


def random_instance(
    rng: random.Random, *, multi_role: bool, affiliations: bool
) -> tuple[list[BatchCall], dict[str, int]]:
    citizens = [f"c{i}" for i in range(7)]
    roles = ["cyclist", "engineer"]
    orgs = ["metro", "council"]
    profile = {
        c: (
            frozenset(rng.sample(roles, rng.choice([0, 1, 2] if multi_role else [0, 1]))),
            frozenset(rng.sample(orgs, 1)) if affiliations and rng.random() < 0.6 else frozenset(),
        )
        for c in citizens
    }
    calls = []
    for k in range(3):
        pool = rng.sample(citizens, 4)
        candidates = tuple(
            sorted(
                (BatchCandidate(c, round(rng.uniform(-0.2, 1.0), 3), *profile[c]) for c in pool),
                key=lambda c: -c.score,
            )
        )
        quotas = []
        if rng.random() < 0.7:
            quotas.append(Quota("cyclist", rng.choice([0, 1, 2]), rng.choice([1, 2, 3])))
        if rng.random() < 0.5:
            quotas.append(Quota("engineer", rng.choice([0, 1]), rng.choice([1, 3])))
        quotas = [q for q in quotas if q.min <= q.max]
        calls.append(
            BatchCall(
                key=f"call{k}",
                panel_size=rng.choice([2, 3]),
                candidates=candidates,
                quotas=tuple(quotas),
                max_affiliation_share=0.5 if affiliations else 1.0,
            )
        )
    remaining = {c: rng.choice([0, 1, 1, 2]) for c in citizens if rng.random() < 0.8}
    return calls, remaining


@pytest.mark.parametrize("seed", range(40))
def test_flow_is_optimal_on_flow_shaped_instances(seed: int) -> None:
    calls, remaining = random_instance(random.Random(seed), multi_role=False, affiliations=False)
    assert all(flow_shaped(call) for call in calls)
    solution = solve_batch(calls, remaining, exact_max_pairs=0)
    assert solution.method == "flow"
    assert solution.optimal
    assert integer_objective(calls, solution.panels) == brute_force(calls, remaining)
    assert cap_overruns(solution.panels, remaining) == {}


@pytest.mark.parametrize("seed", range(40))
def test_exact_solver_is_optimal_with_shared_roles_and_affiliation_caps(seed: int) -> None:
    calls, remaining = random_instance(random.Random(seed), multi_role=True, affiliations=True)
    solution = solve_batch(calls, remaining, time_limit_seconds=10)
    assert solution.optimal
    assert integer_objective(calls, solution.panels) == brute_force(calls, remaining)
    assert cap_overruns(solution.panels, remaining) == {}
    for call in calls:
        assert violations(call, solution.panels[call.key].members) == []


def random_candidates(
    rng: random.Random, citizens: list[str], count: int, *, roles: list[str], counts: list[int]
) -> tuple[BatchCandidate, ...]:
    """``count`` of the citizens, best first, each with a random score, a random number
    (drawn from ``counts``) of the roles and, three times in ten, the one organisation."""
    return tuple(
        sorted(
            (
                BatchCandidate(
                    c,
                    round(rng.random(), 4),
                    frozenset(rng.sample(roles, rng.choice(counts))),
                    frozenset({"org"}) if rng.random() < 0.3 else frozenset(),
                )
                for c in rng.sample(citizens, count)
            ),
            key=lambda c: -c.score,
        )
    )


@pytest.mark.parametrize("seed", range(10))
def test_decomposition_keeps_every_rule_and_beats_or_ties_the_baseline(seed: int) -> None:
    rng = random.Random(1000 + seed)
    citizens = [f"c{i}" for i in range(60)]
    calls = []
    for k in range(25):
        candidates = random_candidates(rng, citizens, 15, roles=["a", "b"], counts=[0, 0, 1, 2])
        calls.append(
            BatchCall(
                f"k{k}",
                5,
                candidates,
                (Quota("a", 1, 3), Quota("b", 1, 2)) if k % 2 else (),
                max_affiliation_share=0.4,
            )
        )
    remaining = {c: rng.choice([1, 2, 3]) for c in citizens}
    solution = solve_batch(calls, remaining, exact_max_pairs=0, time_limit_seconds=3)
    assert solution.method in {"flow", "flow+cpsat"}
    assert cap_overruns(solution.panels, remaining) == {}
    for call in calls:
        assert violations(call, solution.panels[call.key].members) == []
    baseline = sequential(calls, remaining)
    assert cap_overruns(baseline.panels, remaining) == {}
    assert solution.missing <= baseline.missing


def test_a_popular_expert_wanted_by_two_calls_goes_where_it_matters() -> None:
    """Sequential routing gives the expert (cap 1) to the first call; the batch does better."""
    first = BatchCall(
        "first",
        1,
        (BatchCandidate("expert", 0.9), BatchCandidate("runner_up", 0.85)),
    )
    second = BatchCall(
        "second",
        1,
        (BatchCandidate("expert", 0.8), BatchCandidate("novice", 0.1)),
    )
    remaining = {"expert": 1}
    baseline = sequential([first, second], remaining)
    assert baseline.panels["first"].members == ["expert"]
    assert baseline.panels["second"].members == ["novice"]
    assert baseline.total_score == pytest.approx(1.0)
    batch = solve_batch([first, second], remaining)
    assert batch.method == "flow"
    assert batch.panels["first"].members == ["runner_up"]
    assert batch.panels["second"].members == ["expert"]
    assert batch.total_score == pytest.approx(1.65)
    assert batch.total_score > baseline.total_score


def test_a_quota_is_met_in_the_batch_that_sequential_routing_starves() -> None:
    """The only cyclist (cap 1) is the first call's best; the second call needs a cyclist."""
    cyclist = BatchCandidate("cyclist", 0.9, frozenset({"cyclist"}))
    first = BatchCall("first", 2, (cyclist, BatchCandidate("a", 0.8), BatchCandidate("b", 0.7)))
    second = BatchCall(
        "second",
        2,
        (cyclist, BatchCandidate("c", 0.5), BatchCandidate("d", 0.4)),
        quotas=(Quota("cyclist", 1, 2),),
    )
    remaining = {"cyclist": 1}
    baseline = sequential([first, second], remaining)
    assert baseline.panels["second"].shortfall == {"cyclist": 1}
    batch = solve_batch([first, second], remaining)
    assert batch.panels["second"].shortfall == {}
    assert batch.panels["second"].members == ["cyclist", "c"]
    assert batch.panels["first"].members == ["a", "b"]
    assert batch.objective() > baseline.objective()


def test_a_citizen_at_cap_zero_is_never_seated_and_role_max_zero_is_hard() -> None:
    call = BatchCall(
        "call",
        3,
        (
            BatchCandidate("capped", 2.0),
            BatchCandidate("staff", 1.5, frozenset({"staff"})),
            BatchCandidate("ok", 0.1),
        ),
        quotas=(Quota("staff", 0, 0),),
    )
    solution = solve_batch([call], {"capped": 0})
    assert solution.panels["call"].members == ["ok"]


def test_the_baseline_keeps_to_its_total_time_and_still_seats_every_call() -> None:
    """A body's 200 open calls with quotas under a total budget: the baseline keeps to it
    (plus each panel's minimum), and with each call's share of it every call still gets a
    panel that breaks no rule and no cap."""
    rng = random.Random(7)
    citizens = [f"c{i}" for i in range(300)]
    calls = []
    for k in range(200):
        candidates = random_candidates(rng, citizens, 40, roles=["a", "b", "c"], counts=[0, 1, 2])
        quotas = (Quota("a", 2, 3), Quota("b", 2, 3), Quota("c", 1, 2))
        calls.append(BatchCall(f"k{k}", 8, candidates, quotas, max_affiliation_share=0.3))
    remaining = {c: rng.choice([1, 2]) for c in citizens}
    started = time.perf_counter()
    baseline = sequential(calls, remaining, time_limit_seconds=1.0, total_seconds=2.0)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0 + len(calls) * MIN_PANEL_SECONDS + 1.0
    assert set(baseline.panels) == {call.key for call in calls}
    assert cap_overruns(baseline.panels, remaining) == {}
    for call in calls:
        assert violations(call, baseline.panels[call.key].members) == []
