"""Panels for many calls at once under per-citizen caps (pure: no I/O, no event loop).

Each call keeps routing's own rules (``panel.selection``): a member counts towards every quota
whose role they hold and towards the cap of every organisation they belong to; the objective
is lexicographic per call, in routing's order: meet every role's ``min`` (soft: a large
penalty per missing member), then seat as many as possible (up to ``panel_size``), then the
sum of scores. Across calls, a citizen sits on at most ``remaining[citizen]`` panels (their
monthly cap minus this month's invitations; absent: no cap).

Solvers (``solve_batch``):

- ``flow``: a min-cost flow (OR-Tools SimpleMinCostFlow). source -> call (panel_size) ->
  [role group of the call: an arc of capacity ``min`` at a large bonus and one of ``max - min``
  at no cost; a free group of capacity panel_size] -> citizen (cost -score, capacity 1) ->
  sink (the citizen's remaining cap); an "empty seat" arc call -> sink costs a seat. Exact
  when, for every call, each candidate holds at most one of the call's binding quota roles
  and no affiliation cap is exceeded by the flow's panel (the groups are then a laminar
  family and the flow's integral optimum is the integer optimum).
- ``flow+cpsat``: the decomposition used when some calls are not of that shape. The flow runs
  over every call (a candidate holding several binding roles enters by the first: a
  restriction, never a violation of a min); calls whose flow panel breaks a role max or an
  affiliation cap, or that have multi-role candidates, are then re-solved with CP-SAT
  together with the calls sharing capped citizens with them (breadth first, at most
  ``exact_max_pairs`` call-candidate pairs), on the capacity the other calls leave, hinted
  with a valid repair of the flow's panels. Feasible, not proven optimal.
- ``cpsat``: the same, when the whole batch fits in ``exact_max_pairs``: one CP-SAT model,
  proven optimal unless the time limit stops it first.

With the sequential solution as ``baseline``, the batch keeps whichever is better in
(missing mins, seats, score) order, so it is never worse than routing the calls in turn.

``sequential`` is the baseline: route call 1 (routing's ``select_panel`` over the candidates
with capacity left), decrement the caps, route call 2, and so on.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from convene_matcher.panel import PanelCandidate, Quota, affiliation_cap, select_panel

SCORE_SCALE = 10_000
EXACT_MAX_PAIRS = 20_000
# A call's panel in a time-bounded baseline never gets less than this (select_panel's
# greedy answer is ready well within it).
MIN_PANEL_SECONDS = 0.05

Method = Literal["flow", "flow+cpsat", "cpsat", "sequential", "empty"]


@dataclass(frozen=True, slots=True)
class BatchCandidate:
    citizen: str
    score: float
    roles: frozenset[str] = frozenset()
    affiliations: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class BatchCall:
    key: str
    panel_size: int
    candidates: tuple[BatchCandidate, ...]  # best first (routing's order)
    quotas: tuple[Quota, ...] = ()
    max_affiliation_share: float = 1.0

    @property
    def affiliation_cap(self) -> int:
        return affiliation_cap(self.panel_size, self.max_affiliation_share)


@dataclass(slots=True)
class CallPanel:
    members: list[str]  # in the call's candidate order
    fills: dict[str, list[str]]
    shortfall: dict[str, int]  # role -> members missing to reach its min
    score: float


@dataclass(slots=True)
class BatchSolution:
    panels: dict[str, CallPanel]
    method: Method
    optimal: bool  # proven optimal for the batch objective
    seconds: float
    arcs: int = 0
    cpsat_calls: int = 0  # calls the exact fix-up solved
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def total_score(self) -> float:
        return sum(p.score for p in self.panels.values())

    @property
    def seats(self) -> int:
        return sum(len(p.members) for p in self.panels.values())

    @property
    def missing(self) -> int:
        return sum(sum(p.shortfall.values()) for p in self.panels.values())

    def objective(self) -> tuple[int, int, float]:
        """Compare as a tuple (bigger is better): (-missing mins, seats, score)."""
        return -self.missing, self.seats, self.total_score


# -- shared pieces --------------------------------------------------------------------------


def binding_quotas(call: BatchCall) -> tuple[Quota, ...]:
    """The quotas that constrain anything: a min above 0 or a max below the panel size."""
    return tuple(q for q in call.quotas if q.min > 0 or q.max < call.panel_size)


def panel_of(call: BatchCall, chosen: set[str]) -> CallPanel:
    members = [c for c in call.candidates if c.citizen in chosen]
    roles = [q.role for q in call.quotas]
    shortfall: dict[str, int] = {}
    for quota in call.quotas:
        holders = sum(1 for c in members if quota.role in c.roles)
        if holders < quota.min:
            shortfall[quota.role] = quota.min - holders
    return CallPanel(
        members=[c.citizen for c in members],
        fills={c.citizen: [r for r in roles if r in c.roles] for c in members},
        shortfall=shortfall,
        score=sum(c.score for c in members),
    )


def violations(call: BatchCall, members: Sequence[str]) -> list[str]:
    """Hard rules a panel breaks (size, role maxima, affiliation caps); empty when valid."""
    by_citizen = {c.citizen: c for c in call.candidates}
    chosen = [by_citizen[m] for m in members]
    broken: list[str] = []
    if len(chosen) > call.panel_size:
        broken.append("panel_size")
    if len(set(members)) != len(members):
        broken.append("duplicate member")
    for quota in call.quotas:
        if sum(1 for c in chosen if quota.role in c.roles) > quota.max:
            broken.append(f"max of {quota.role}")
    counts: dict[str, int] = {}
    for candidate in chosen:
        for organisation in candidate.affiliations:
            counts[organisation] = counts.get(organisation, 0) + 1
    cap = call.affiliation_cap
    broken.extend(f"cap of {o}" for o, n in counts.items() if n > cap)
    return broken


def cap_overruns(panels: Mapping[str, CallPanel], remaining: Mapping[str, int]) -> dict[str, int]:
    """Citizen -> seats beyond their remaining cap (empty when every cap holds)."""
    seats: dict[str, int] = {}
    for panel in panels.values():
        for member in panel.members:
            seats[member] = seats.get(member, 0) + 1
    return {
        citizen: count - remaining[citizen]
        for citizen, count in seats.items()
        if citizen in remaining and count > remaining[citizen]
    }


@dataclass(frozen=True, slots=True)
class _Weights:
    seat: int
    missing: int


def _weights(calls: Sequence[BatchCall]) -> _Weights:
    # Per call lexicographic, as panel selection: a seat outweighs any score sum of a panel,
    # a missing min outweighs any number of seats.
    top = max((abs(_score_int(c.score)) for call in calls for c in call.candidates), default=0)
    size = max((call.panel_size for call in calls), default=1)
    seat = (top + 1) * size + 1
    return _Weights(seat=seat, missing=seat * (size + 1))


def _score_int(score: float) -> int:
    return round(score * SCORE_SCALE)


def _capacity(remaining: Mapping[str, int], citizen: str, calls_holding: int) -> int:
    cap = remaining.get(citizen)
    return calls_holding if cap is None else max(0, min(cap, calls_holding))


# -- min-cost flow --------------------------------------------------------------------------


def flow_shaped(call: BatchCall) -> bool:
    """Whether the flow is exact for this call: no candidate holds two binding roles."""
    roles = {q.role for q in binding_quotas(call)}
    if len(roles) < 2:
        return True
    return all(len(c.roles & roles) <= 1 for c in call.candidates)


def solve_flow(
    calls: Sequence[BatchCall], remaining: Mapping[str, int]
) -> tuple[dict[str, set[str]], int]:
    """Every call by the flow (role groups as in the module docstring; affiliation caps are
    not in the network): call key -> chosen citizens, and the number of arcs."""
    import numpy as np
    from ortools.graph.python import min_cost_flow

    weights = _weights(calls)
    holding: dict[str, int] = {}
    for call in calls:
        for candidate in call.candidates:
            holding[candidate.citizen] = holding.get(candidate.citizen, 0) + 1
    citizen_node = {citizen: 2 + i for i, citizen in enumerate(holding)}
    next_node = 2 + len(citizen_node)
    source, sink = 0, 1
    tails: list[int] = []
    heads: list[int] = []
    caps: list[int] = []
    costs: list[int] = []
    # (arc index, call key, citizen) of the arcs that seat a citizen on a panel
    seat_arcs: list[tuple[int, str, str]] = []

    def arc(tail: int, head: int, capacity: int, cost: int) -> int:
        tails.append(tail)
        heads.append(head)
        caps.append(capacity)
        costs.append(cost)
        return len(tails) - 1

    total_seats = 0
    for call in calls:
        call_node = next_node
        next_node += 1
        total_seats += call.panel_size
        arc(source, call_node, call.panel_size, 0)
        arc(call_node, sink, call.panel_size, weights.seat)  # an empty seat
        quotas = binding_quotas(call)
        group_of_role: dict[str, int] = {}
        for quota in quotas:
            group = next_node
            next_node += 1
            group_of_role[quota.role] = group
            low = min(quota.min, call.panel_size)
            high = min(quota.max, call.panel_size)
            if low > 0:
                arc(call_node, group, low, -weights.missing)
            if high > low:
                arc(call_node, group, high - low, 0)
        for candidate in call.candidates:
            held = [group_of_role[r] for r in group_of_role if r in candidate.roles]
            tail = held[0] if held else call_node
            index = arc(tail, citizen_node[candidate.citizen], 1, -_score_int(candidate.score))
            seat_arcs.append((index, call.key, candidate.citizen))
    for citizen, node in citizen_node.items():
        arc(node, sink, _capacity(remaining, citizen, holding[citizen]), 0)

    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(
        np.asarray(tails, dtype=np.int32),
        np.asarray(heads, dtype=np.int32),
        np.asarray(caps, dtype=np.int64),
        np.asarray(costs, dtype=np.int64),
    )
    supplies = np.zeros(next_node, dtype=np.int64)
    supplies[source] = total_seats
    supplies[sink] = -total_seats
    solver.set_nodes_supplies(np.arange(next_node, dtype=np.int32), supplies)
    status = solver.solve()
    if status != solver.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: status {status}")
    flows = solver.flows(np.asarray([a for a, _, _ in seat_arcs], dtype=np.int32))
    chosen: dict[str, set[str]] = {call.key: set() for call in calls}
    for (_, call_key, citizen), amount in zip(seat_arcs, flows.tolist(), strict=True):
        if amount:
            chosen[call_key].add(citizen)
    return chosen, len(tails)


# -- CP-SAT ---------------------------------------------------------------------------------


def solve_cpsat(
    calls: Sequence[BatchCall],
    remaining: Mapping[str, int],
    *,
    time_limit_seconds: float,
    hint: Mapping[str, set[str]] | None = None,
    workers: int = 1,
) -> tuple[dict[str, set[str]], bool]:
    """The calls as one integer program: call key -> chosen citizens, and whether proven
    optimal. Role maxima, affiliation caps and citizen caps are hard; mins are soft."""
    from ortools.sat.python import cp_model

    weights = _weights(calls)
    model = cp_model.CpModel()
    by_citizen: dict[str, list[cp_model.IntVar]] = {}
    variables: list[tuple[str, str, cp_model.IntVar]] = []
    objective: list[cp_model.LinearExprT] = []
    for c_index, call in enumerate(calls):
        x = [model.new_bool_var(f"x{c_index}_{i}") for i in range(len(call.candidates))]
        for var, candidate in zip(x, call.candidates, strict=True):
            by_citizen.setdefault(candidate.citizen, []).append(var)
            variables.append((call.key, candidate.citizen, var))
            objective.append(var * (weights.seat + _score_int(candidate.score)))
            if hint is not None:
                model.add_hint(var, candidate.citizen in hint.get(call.key, ()))
        if len(x) > call.panel_size:
            model.add(sum(x) <= call.panel_size)
        for q_index, quota in enumerate(binding_quotas(call)):
            holders = [v for v, c in zip(x, call.candidates, strict=True) if quota.role in c.roles]
            if len(holders) > quota.max:
                model.add(sum(holders) <= quota.max)
            if quota.min > 0:
                short = model.new_int_var(0, quota.min, f"short{c_index}_{q_index}")
                model.add(sum(holders) + short >= quota.min)
                objective.append(-weights.missing * short)
                if hint is not None:
                    hinted = sum(
                        1
                        for c in call.candidates
                        if quota.role in c.roles and c.citizen in hint.get(call.key, ())
                    )
                    model.add_hint(short, max(0, quota.min - hinted))
        organisations: dict[str, list[cp_model.IntVar]] = {}
        for var, candidate in zip(x, call.candidates, strict=True):
            for organisation in candidate.affiliations:
                organisations.setdefault(organisation, []).append(var)
        cap = call.affiliation_cap
        for members in organisations.values():
            if len(members) > cap:
                model.add(sum(members) <= cap)
    for citizen, seats in by_citizen.items():
        capacity = _capacity(remaining, citizen, len(seats))
        if capacity < len(seats):
            model.add(sum(seats) <= capacity)
    model.maximize(sum(objective))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = 0
    solver.parameters.max_time_in_seconds = max(0.01, time_limit_seconds)
    status = solver.solve(model)
    chosen: dict[str, set[str]] = {call.key: set() for call in calls}
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ({k: set(v) for k, v in hint.items()} if hint else chosen), False
    for call_key, citizen, var in variables:
        if solver.boolean_value(var):
            chosen[call_key].add(citizen)
    return chosen, status == cp_model.OPTIMAL


# -- the batch ------------------------------------------------------------------------------


def _panels(calls: Sequence[BatchCall], chosen: Mapping[str, set[str]]) -> dict[str, CallPanel]:
    return {call.key: panel_of(call, chosen.get(call.key, set())) for call in calls}


def _usage(chosen: Mapping[str, set[str]], skip: set[str]) -> dict[str, int]:
    used: dict[str, int] = {}
    for key, members in chosen.items():
        if key in skip:
            continue
        for member in members:
            used[member] = used.get(member, 0) + 1
    return used


def _left(remaining: Mapping[str, int], used: Mapping[str, int]) -> dict[str, int]:
    return {citizen: cap - used.get(citizen, 0) for citizen, cap in remaining.items()}


def _neighbourhood(
    calls: Sequence[BatchCall],
    seeds: Sequence[BatchCall],
    remaining: Mapping[str, int],
    *,
    max_pairs: int,
) -> list[BatchCall]:
    """The seed calls plus, breadth first, calls that share a capped citizen with them,
    while the pairs stay within ``max_pairs``."""
    holders: dict[str, list[BatchCall]] = {}
    for call in calls:
        for candidate in call.candidates:
            if candidate.citizen in remaining:
                holders.setdefault(candidate.citizen, []).append(call)
    taken = {call.key for call in seeds}
    chosen = list(seeds)
    pairs = sum(len(call.candidates) for call in chosen)
    queue = list(seeds)
    while queue:
        call = queue.pop(0)
        for candidate in call.candidates:
            for other in holders.get(candidate.citizen, ()):
                if other.key in taken:
                    continue
                if pairs + len(other.candidates) > max_pairs:
                    return chosen
                taken.add(other.key)
                chosen.append(other)
                pairs += len(other.candidates)
                queue.append(other)
    return chosen


def _repair(
    calls: Sequence[BatchCall],
    chosen: Mapping[str, set[str]],
    left: Mapping[str, int],
    *,
    rest_keys: set[str],
) -> dict[str, set[str]]:
    """Valid panels within ``left``: the flow's panels kept where valid; for the other calls,
    their flow members then the other candidates, best first, while each keeps the panel
    valid and has capacity (role mins are not chased: the solver does that)."""
    capacity = dict(left)
    hint: dict[str, set[str]] = {}
    for call in calls:
        if call.key not in rest_keys:
            hint[call.key] = set(chosen[call.key])
            for member in chosen[call.key]:
                if member in capacity:
                    capacity[member] -= 1
    for call in calls:
        if call.key not in rest_keys:
            continue
        flow_members = chosen.get(call.key, set())
        ordered = [c for c in call.candidates if c.citizen in flow_members] + [
            c for c in call.candidates if c.citizen not in flow_members
        ]
        members: list[str] = []
        for candidate in ordered:
            if len(members) >= call.panel_size:
                break
            if capacity.get(candidate.citizen, 1) <= 0:
                continue
            if violations(call, [*members, candidate.citizen]):
                continue
            members.append(candidate.citizen)
            if candidate.citizen in capacity:
                capacity[candidate.citizen] -= 1
        hint[call.key] = set(members)
    return hint


def solve_batch(
    calls: Sequence[BatchCall],
    remaining: Mapping[str, int],
    *,
    time_limit_seconds: float = 20.0,
    exact_max_pairs: int = EXACT_MAX_PAIRS,
    workers: int = 1,
    baseline: BatchSolution | None = None,
) -> BatchSolution:
    """Panels for every call (``calls`` keys unique); ``remaining``: citizen -> panels they
    may still join this month (absent: no cap). With a ``baseline`` (the sequential
    solution), the result is never worse than it (method "sequential" when it was kept)."""
    started = time.perf_counter()
    if not calls:
        return BatchSolution({}, "empty", True, 0.0)
    remaining = {c: max(0, n) for c, n in remaining.items()}
    # 1. the flow over every call; a candidate holding several binding roles enters by the
    #    first (a restriction: the panel can only hold more holders than the flow counts).
    chosen, arcs = solve_flow(calls, remaining)
    flow_seconds = time.perf_counter() - started
    by_key = {call.key: call for call in calls}
    # 2. calls the flow cannot judge exactly: a role max or affiliation cap broken, or two
    #    binding roles on one candidate (the restriction above may have cost them).
    rest = [
        call
        for call in calls
        if not flow_shaped(call) or violations(call, sorted(chosen[call.key]))
    ]
    method: Method = "flow"
    optimal = not rest
    rest_keys = {call.key for call in rest}
    if rest:
        method = "flow+cpsat"
        pairs = sum(len(call.candidates) for call in calls)
        if pairs <= exact_max_pairs:
            region = list(calls)
        else:
            region = _neighbourhood(calls, rest, remaining, max_pairs=max(exact_max_pairs, 1))
        region_keys = {call.key for call in region}
        # A feasible hint: the flow's panels of the well-shaped calls, the others repaired.
        left = _left(remaining, _usage(chosen, region_keys))
        hint = _repair(region, chosen, left, rest_keys=rest_keys)
        budget = time_limit_seconds - (time.perf_counter() - started)
        solved, proven = solve_cpsat(
            region, left, time_limit_seconds=budget, hint=hint, workers=workers
        )
        chosen = {**chosen, **solved}
        if len(region) == len(calls):
            method, optimal = "cpsat", proven
    panels = _panels(calls, chosen)
    if baseline is not None and _objective(baseline.panels) > _objective(panels):
        panels = {key: baseline.panels[key] for key in by_key}
        method, optimal = "sequential", False
    return BatchSolution(
        panels=panels,
        method=method,
        optimal=optimal,
        seconds=time.perf_counter() - started,
        arcs=arcs,
        cpsat_calls=len(rest_keys),
        stats={"flow_seconds": flow_seconds},
    )


def _objective(panels: Mapping[str, CallPanel]) -> tuple[int, int, float]:
    missing = sum(sum(p.shortfall.values()) for p in panels.values())
    seats = sum(len(p.members) for p in panels.values())
    return -missing, seats, round(sum(p.score for p in panels.values()), 9)


def sequential(
    calls: Sequence[BatchCall],
    remaining: Mapping[str, int],
    *,
    time_limit_seconds: float = 2.0,
    total_seconds: float | None = None,
) -> BatchSolution:
    """The baseline: each call in turn by routing's own panel selection over the candidates
    with capacity left, then the caps are decremented. ``total_seconds`` bounds the whole
    baseline: each call's panel gets at most its share of what is left (500 calls at 1 s each
    held a request for minutes)."""
    started = time.perf_counter()
    left = dict(remaining)
    panels: dict[str, CallPanel] = {}
    for number, call in enumerate(calls):
        limit = time_limit_seconds
        if total_seconds is not None:
            spare = total_seconds - (time.perf_counter() - started)
            limit = min(limit, max(MIN_PANEL_SECONDS, spare / (len(calls) - number)))
        pool = [
            PanelCandidate(c.citizen, c.score, c.roles, c.affiliations)
            for c in call.candidates
            if left.get(c.citizen, 1) > 0
        ]
        result = select_panel(
            pool,
            quotas=list(call.quotas),
            panel_size=call.panel_size,
            max_affiliation_share=call.max_affiliation_share,
            time_limit_seconds=limit,
        )
        for member in result.members:
            if member in left:
                left[member] -= 1
        panels[call.key] = panel_of(call, set(result.members))
    return BatchSolution(
        panels=panels, method="sequential", optimal=False, seconds=time.perf_counter() - started
    )
