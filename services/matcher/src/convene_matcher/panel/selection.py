"""Panel selection under role quotas and affiliation caps (pure; no I/O, no event loop).

The objective is lexicographic, in this order:

1. meet every role's ``min`` (each missing member is a large penalty, so an unsatisfiable call
   still gets the best possible panel and the shortfall is reported, never an error);
2. seat as many members as possible, up to ``panel_size`` (``max`` quotas and affiliation
   caps may leave seats empty when the pool holds nobody else);
3. maximise the sum of scores (ties: the candidates' ``order``, a seeded or id-derived key).

A member counts towards every quota whose role they hold (a cyclist who is also a transport
engineer counts for both), and towards the cap of every organisation they are affiliated with.

Fast path: if the top ``panel_size`` candidates by (score, order) already satisfy every min,
max and cap, they are the optimum (the unconstrained best set is feasible). Otherwise a small
integer program is solved with OR-Tools CP-SAT (one worker, fixed seed: deterministic).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

# Integer objective weights: a missing min outweighs any number of seats, a seat outweighs
# any score sum; scores are scaled to integers with a rank term so the optimum is unique.
_SCORE_SCALE = 10_000


@dataclass(frozen=True, slots=True)
class PanelCandidate:
    key: str
    score: float
    roles: frozenset[str] = frozenset()
    affiliations: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Quota:
    role: str
    min: int
    max: int


@dataclass(slots=True)
class PanelResult:
    members: list[str]
    # Member -> the quota roles they fill (empty: seated for relevance).
    fills: dict[str, list[str]]
    # Role -> members still missing to reach its min (only roles that fall short).
    shortfall: dict[str, int] = field(default_factory=dict)
    method: Literal["top", "solver", "empty"] = "top"


def affiliation_cap(panel_size: int, max_share: float) -> int:
    """Most members one organisation may have: floor(share x size), at least one."""
    if max_share >= 1:
        return panel_size
    return max(1, math.floor(max_share * panel_size + 1e-9))


def objective(
    chosen: Sequence[PanelCandidate], *, quotas: Sequence[Quota]
) -> tuple[int, int, float]:
    """(missing min members, seats, score sum): compare as (-missing, seats, score)."""
    missing = 0
    for quota in quotas:
        holders = sum(1 for c in chosen if quota.role in c.roles)
        missing += max(0, quota.min - holders)
    return missing, len(chosen), sum(c.score for c in chosen)


def is_feasible(
    chosen: Sequence[PanelCandidate],
    *,
    quotas: Sequence[Quota],
    panel_size: int,
    cap: int,
) -> bool:
    """Respects every max and cap (mins are soft and scored by ``objective``)."""
    if len(chosen) > panel_size:
        return False
    for quota in quotas:
        if sum(1 for c in chosen if quota.role in c.roles) > quota.max:
            return False
    counts: dict[str, int] = {}
    for candidate in chosen:
        for organisation in candidate.affiliations:
            counts[organisation] = counts.get(organisation, 0) + 1
            if counts[organisation] > cap:
                return False
    return True


def _result(
    chosen: Sequence[PanelCandidate], *, quotas: Sequence[Quota], method: Literal["top", "solver"]
) -> PanelResult:
    roles = [quota.role for quota in quotas]
    fills = {c.key: [role for role in roles if role in c.roles] for c in chosen}
    shortfall = {}
    for quota in quotas:
        holders = sum(1 for c in chosen if quota.role in c.roles)
        if holders < quota.min:
            shortfall[quota.role] = quota.min - holders
    return PanelResult([c.key for c in chosen], fills, shortfall, method)


def select_panel(
    candidates: Sequence[PanelCandidate],
    *,
    quotas: Sequence[Quota],
    panel_size: int,
    max_affiliation_share: float,
    time_limit_seconds: float = 2.0,
) -> PanelResult:
    """The best panel; ``candidates`` must be sorted best first (score desc, then tie key)."""
    if not candidates:
        return PanelResult([], {}, {q.role: q.min for q in quotas if q.min > 0}, "empty")
    cap = affiliation_cap(panel_size, max_affiliation_share)
    top = list(candidates[:panel_size])
    missing, _, _ = objective(top, quotas=quotas)
    if missing == 0 and is_feasible(top, quotas=quotas, panel_size=panel_size, cap=cap):
        return _result(top, quotas=quotas, method="top")
    chosen = _solve(
        candidates,
        quotas=quotas,
        panel_size=panel_size,
        cap=cap,
        time_limit_seconds=time_limit_seconds,
    )
    return _result(chosen, quotas=quotas, method="solver")


def _solve(
    candidates: Sequence[PanelCandidate],
    *,
    quotas: Sequence[Quota],
    panel_size: int,
    cap: int,
    time_limit_seconds: float,
) -> list[PanelCandidate]:
    from ortools.sat.python import cp_model

    n = len(candidates)
    # Score term: scaled score times n plus a rank term (earlier = better), so near-equal
    # scores are broken by the candidates' order and the optimum is unique.
    score_terms = [
        max(0, round(c.score * _SCORE_SCALE) + _SCORE_SCALE) * n + (n - position)
        for position, c in enumerate(candidates)
    ]
    seat_weight = (max(score_terms) + 1) * panel_size + 1
    missing_weight = seat_weight * (panel_size + 1)

    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{i}") for i in range(n)]
    model.add(sum(x) <= panel_size)
    shortfalls = []
    for q_index, quota in enumerate(quotas):
        holders = [x[i] for i, c in enumerate(candidates) if quota.role in c.roles]
        if holders:
            model.add(sum(holders) <= quota.max)
        if quota.min > 0:
            short = model.new_int_var(0, quota.min, f"short{q_index}")
            model.add(sum(holders) + short >= quota.min)
            shortfalls.append(short)
    organisations: dict[str, list[int]] = {}
    for i, candidate in enumerate(candidates):
        for organisation in candidate.affiliations:
            organisations.setdefault(organisation, []).append(i)
    for members in organisations.values():
        if len(members) > cap:
            model.add(sum(x[i] for i in members) <= cap)
    model.maximize(
        sum(x[i] * (seat_weight + score_terms[i]) for i in range(n))
        - missing_weight * sum(shortfalls)
    )
    # A feasible greedy panel as the solver's first solution: it then only has to improve on
    # it (and prove optimality), which is much faster on a pool of a few hundred.
    hinted = {c.key for c in _greedy(candidates, quotas=quotas, panel_size=panel_size, cap=cap)}
    for i, candidate in enumerate(candidates):
        model.add_hint(x[i], candidate.key in hinted)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    solver.parameters.max_time_in_seconds = time_limit_seconds
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        # Always feasible (the empty panel is); reached only on a zero time limit.
        return _greedy(candidates, quotas=quotas, panel_size=panel_size, cap=cap)
    return [c for i, c in enumerate(candidates) if solver.boolean_value(x[i])]


def _greedy(
    candidates: Sequence[PanelCandidate], *, quotas: Sequence[Quota], panel_size: int, cap: int
) -> list[PanelCandidate]:
    """Best first, mins first: a feasible (not necessarily optimal) fallback. Counts are kept
    as members are added, so each candidate costs O(quotas + affiliations): re-checking the
    whole panel per candidate was O(pool x panel) and took 0.2 s of a 220-seat panel's
    routing (1,000 candidates, 8 quotas)."""
    chosen: list[PanelCandidate] = []
    taken: set[str] = set()
    holders = {quota.role: 0 for quota in quotas}
    maxima: dict[str, int] = {}
    for quota in quotas:  # the same role twice: the tighter max binds
        maxima[quota.role] = min(quota.max, maxima.get(quota.role, quota.max))
    per_organisation: dict[str, int] = {}

    def fits(candidate: PanelCandidate) -> bool:
        if len(chosen) >= panel_size or candidate.key in taken:
            return False
        if any(holders[r] >= maxima[r] for r in candidate.roles if r in holders):
            return False
        return all(per_organisation.get(o, 0) < cap for o in candidate.affiliations)

    def add(candidate: PanelCandidate) -> None:
        chosen.append(candidate)
        taken.add(candidate.key)
        for role in candidate.roles:
            if role in holders:
                holders[role] += 1
        for organisation in candidate.affiliations:
            per_organisation[organisation] = per_organisation.get(organisation, 0) + 1

    for quota in quotas:
        for candidate in candidates:
            if holders[quota.role] >= quota.min:
                break
            if quota.role in candidate.roles and fits(candidate):
                add(candidate)
    for candidate in candidates:
        if len(chosen) >= panel_size:
            break
        if fits(candidate):
            add(candidate)
    order = {c.key: i for i, c in enumerate(candidates)}
    return sorted(chosen, key=lambda c: order[c.key])
