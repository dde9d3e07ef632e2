"""Routing batches: many calls' panels solved together so nobody exceeds their monthly cap.

1. The calls: the listed ones (all open, deadline ahead; a body's own batch: all the body's)
   or a body's open calls, oldest first (that order is the sequential baseline's).
2. Each call's pool from routing's own pipeline (``candidates.route_candidates``: filters,
   including the invitation cap, and the weighted score under the active configuration).
3. Remaining cap per citizen = max_invitations_per_month - invitations this calendar month
   (the exposure ledger, all bodies); no cap set: no limit.
4. ``solver.sequential`` (the baseline) then ``solver.solve_batch`` (never worse than it),
   in this module's one bounded worker with a time limit, off the event loop.
5. Stored (batch, calls, members as the calls' pseudonymous refs) in one transaction, with
   each call's match rows (as ``POST /v1/calls/{id}/match`` writes them, the batch's panel
   marked): nothing is sent, but each panel can then be invited by ref.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import asyncpg

from convene_matcher.batch import repository
from convene_matcher.batch.candidates import route_batch
from convene_matcher.batch.errors import CallsNotOpenError
from convene_matcher.batch.schemas import (
    MAX_BATCH_CALLS,
    BatchCallRead,
    BatchCreate,
    BatchMember,
    BatchRead,
    UnmetQuota,
)
from convene_matcher.batch.solver import (
    BatchCall,
    BatchCandidate,
    BatchSolution,
    CallPanel,
    cap_overruns,
    sequential,
    solve_batch,
)
from convene_matcher.calls import service as calls_service
from convene_matcher.calls.schemas import CallRead
from convene_matcher.errors import NotFoundError
from convene_matcher.index.service import EvidenceService
from convene_matcher.panel import Quota
from convene_matcher.routing import repository as routing_repository
from convene_matcher.routing.dependencies import RoutingState
from convene_matcher.routing.refs import candidate_ref
from convene_matcher.routing.service import match_result, month_start
from convene_matcher.scoring import MatchingConfig

logger = logging.getLogger("convene.matcher.batch")

# One batch solve at a time per process: the solver is CPU-bound and bounded by its own
# time limit; a second batch waits rather than halving both.
_SOLVER_LIMITER = anyio.CapacityLimiter(1)
# The baseline's per-call CP-SAT limit (routing's default panel limit is 2 s).
SEQUENTIAL_PANEL_LIMIT_SECONDS = 1.0


async def _select_calls(
    *, pool: asyncpg.Pool[Any], body: BatchCreate, now: datetime
) -> list[CallRead]:
    async with pool.acquire() as connection:
        if body.call_ids is not None:
            wanted = list(dict.fromkeys(body.call_ids))
            rows = await repository.calls_by_id(connection, call_ids=wanted)
        else:
            assert body.public_body_id is not None
            rows = await repository.open_calls(
                connection, public_body_id=body.public_body_id, now=now, limit=MAX_BATCH_CALLS
            )
            wanted = [row["id"] for row in rows]
    found = {row["id"]: calls_service.to_read(row) for row in rows}
    missing = [
        call_id
        for call_id in wanted
        if call_id not in found
        or (
            body.public_body_id is not None and found[call_id].public_body_id != body.public_body_id
        )
    ]
    if missing:
        # Another body's call is as unknown as a missing one.
        raise NotFoundError(f"No such call: {', '.join(str(c) for c in missing[:5])}.")
    closed = [c for c in wanted if found[c].status != "open" or found[c].deadline <= now]
    if closed:
        raise CallsNotOpenError(
            "Only open calls with a deadline ahead can be routed: "
            + ", ".join(str(c) for c in closed[:5])
        )
    return [found[call_id] for call_id in wanted]


def _unmet(call: CallRead, panel: CallPanel) -> list[UnmetQuota]:
    return [
        UnmetQuota(role=p.role, wanted=p.min, found=p.min - panel.shortfall[p.role])
        for p in call.perspectives
        if panel.shortfall.get(p.role, 0) > 0
    ]


def _solve(
    problems: list[BatchCall], remaining: dict[str, int], *, time_limit_seconds: float
) -> tuple[BatchSolution, BatchSolution]:
    # The baseline is a comparison figure: it gets no more time in all than the batch solver.
    baseline = sequential(
        problems,
        remaining,
        time_limit_seconds=SEQUENTIAL_PANEL_LIMIT_SECONDS,
        total_seconds=time_limit_seconds,
    )
    batch = solve_batch(
        problems, remaining, time_limit_seconds=time_limit_seconds, baseline=baseline
    )
    return batch, baseline


async def create_batch(
    *,
    pool: asyncpg.Pool[Any],
    evidence: EvidenceService,
    routing: RoutingState,
    config_id: int | None,
    config: MatchingConfig,
    body: BatchCreate,
) -> BatchRead:
    now = datetime.now(UTC)
    calls = await _select_calls(pool=pool, body=body, now=now)
    async with pool.acquire() as connection:
        invitations = await routing_repository.invitations_in_window(
            connection,
            month_start=month_start(now),
            window_start=now - timedelta(days=config.exposure_window_days),
        )
    started = time.perf_counter()
    routed = await route_batch(
        pool=pool,
        evidence=evidence,
        config=config,
        calls=calls,
        invitations=invitations,
        now=now,
    )
    pools = [one.ranked for one in routed]
    candidates_ms = (time.perf_counter() - started) * 1000
    problems = [
        BatchCall(
            key=str(call.id),
            panel_size=call.panel_size,
            candidates=tuple(
                BatchCandidate(s.citizen_id, s.score, frozenset(s.roles), s.affiliations)
                for s in scored
            ),
            quotas=tuple(Quota(p.role, p.min, p.max) for p in call.perspectives),
            max_affiliation_share=config.max_affiliation_share,
        )
        for call, scored in zip(calls, pools, strict=True)
    ]
    remaining: dict[str, int] = {}
    for problem in problems:
        for candidate in problem.candidates:
            record = evidence.store.get(candidate.citizen)
            cap = record.snapshot.availability.max_invitations_per_month if record else 0
            if cap is not None:
                this_month = invitations.get(candidate.citizen, (0, 0))[0]
                remaining[candidate.citizen] = max(0, cap - this_month)
    batch, baseline = await anyio.to_thread.run_sync(
        lambda: _solve(problems, remaining, time_limit_seconds=body.time_limit_seconds),
        limiter=_SOLVER_LIMITER,
    )
    violations = len(cap_overruns(batch.panels, remaining))

    batch_id = uuid.uuid4()
    call_rows: list[tuple[Any, ...]] = []
    member_rows: list[tuple[Any, ...]] = []
    for position, (call, problem) in enumerate(zip(calls, problems, strict=True)):
        panel, alone = batch.panels[problem.key], baseline.panels[problem.key]
        scores = {c.citizen: c.score for c in problem.candidates}
        call_rows.append(
            (
                call.id,
                position,
                call.panel_size,
                panel.score,
                alone.score,
                [u.model_dump() for u in _unmet(call, panel)],
                [u.model_dump() for u in _unmet(call, alone)],
            )
        )
        for rank, citizen in enumerate(panel.members):
            member_rows.append(
                (
                    call.id,
                    candidate_ref(secret=routing.ref_secret, call_id=call.id, citizen_id=citizen),
                    rank,
                    scores[citizen],
                    panel.fills.get(citizen) or ["relevance"],
                )
            )
    values = {
        "id": batch_id,
        "public_body_id": body.public_body_id,
        "requested_by": body.requested_by,
        "config_id": config_id,
        "method": batch.method,
        "optimal": batch.optimal,
        "solve_ms": batch.seconds * 1000,
        "candidates_ms": candidates_ms,
        "sequential_ms": baseline.seconds * 1000,
        "total_score": batch.total_score,
        "sequential_total_score": baseline.total_score,
        "seats": batch.seats,
        "sequential_seats": baseline.seats,
        "unmet": batch.missing,
        "sequential_unmet": baseline.missing,
        "cap_violations": violations,
    }
    # Each call's match rows, as single-call routing writes them, with the batch's panel:
    # POST /v1/calls/{id}/invitations can then invite the panel by ref.
    matches = [
        (
            call.id,
            match_result(
                call=call,
                routed=one,
                evidence=evidence,
                state=routing,
                config=config,
                members=batch.panels[str(call.id)].members,
                fills=batch.panels[str(call.id)].fills,
            )[1],
        )
        for call, one in zip(calls, routed, strict=True)
    ]
    async with pool.acquire() as connection, connection.transaction():
        await repository.insert_batch(
            connection, batch=values, calls=call_rows, members=member_rows
        )
        for call_id, rows in matches:
            await routing_repository.save_match(connection, call_id=call_id, rows=rows)
    logger.info(
        "routing batch solved",
        extra={
            "batch_id": str(batch_id),
            "calls": len(calls),
            "pairs": sum(len(p.candidates) for p in problems),
            "method": batch.method,
            "optimal": batch.optimal,
            "solve_ms": round(batch.seconds * 1000, 1),
            "candidates_ms": round(candidates_ms, 1),
            "total_score": round(batch.total_score, 4),
            "sequential_total_score": round(baseline.total_score, 4),
            "unmet": batch.missing,
            "cap_violations": violations,
        },
    )
    return await get_batch(pool=pool, batch_id=batch_id, public_body_id=None)


async def get_batch(
    *, pool: asyncpg.Pool[Any], batch_id: uuid.UUID, public_body_id: uuid.UUID | None
) -> BatchRead:
    """``public_body_id``: only that body's own batch (another's is a 404)."""
    async with pool.acquire() as connection:
        row = await repository.get_batch(connection, batch_id=batch_id)
        if row is None or (public_body_id is not None and row["public_body_id"] != public_body_id):
            raise NotFoundError("No such routing batch.")
        calls = await repository.batch_calls(connection, batch_id=batch_id)
        members = await repository.batch_members(connection, batch_id=batch_id)
    panels: dict[uuid.UUID, list[BatchMember]] = {}
    for member in members:
        panels.setdefault(member["call_id"], []).append(
            BatchMember(ref=member["ref"], score=round(member["score"], 6), fills=member["fills"])
        )
    return BatchRead(
        **dict(row),
        calls=[
            BatchCallRead(
                call_id=c["call_id"],
                panel_size=c["panel_size"],
                panel=panels.get(c["call_id"], []),
                score=round(c["score"], 6),
                unmet=c["unmet"],
                sequential_score=round(c["sequential_score"], 6),
                sequential_unmet=c["sequential_unmet"],
            )
            for c in calls
        ],
    )
