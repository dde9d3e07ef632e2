"""Preview: a call's panel under one configuration beside the active one, with what changed.

Both runs go through routing's own pipeline (``routing.service.preview_call``): nothing is
stored, refs are the call's usual pseudonymous refs (stable per call and citizen), so people
in and out are comparable across the two runs.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

import asyncpg

from convene_matcher.calls import service as calls_service
from convene_matcher.calls.schemas import CallRead
from convene_matcher.configs import repository
from convene_matcher.configs.errors import UnknownPreviewCallError
from convene_matcher.configs.schemas import (
    PanelView,
    PersonChange,
    PreviewResult,
    QuotaView,
    ScoreShift,
)
from convene_matcher.configs.service import ConfigsState, active_config, config_by_id
from convene_matcher.index.service import EvidenceService
from convene_matcher.routing import service as routing_service
from convene_matcher.routing.dependencies import RoutingState
from convene_matcher.routing.schemas import CandidateRead, MatchResult
from convene_matcher.scoring import MatchingConfig

SCORE_SHIFTS_SHOWN = 20
PARTS = ("similarity", "verified_badges", "rating", "track_record", "locality", "exposure")


async def call_for_admin(*, pool: asyncpg.Pool[Any], call_id: uuid.UUID) -> CallRead:
    async with pool.acquire() as connection:
        body_id = await repository.call_public_body(connection, call_id=call_id)
    if body_id is None:
        raise UnknownPreviewCallError("call_id does not name a call.")
    return await calls_service.get_call(pool=pool, call_id=call_id, public_body_id=body_id)


async def run_match(
    *,
    pool: asyncpg.Pool[Any],
    evidence: EvidenceService,
    routing: RoutingState,
    config: MatchingConfig,
    call: CallRead,
    evidence_before: datetime | None = None,
) -> tuple[MatchResult, float]:
    """Routing's pipeline under ``config``, storing nothing: (result, milliseconds).
    ``evidence_before`` (replays): evidence dated at or after it is left out."""
    started = time.perf_counter()
    result = await routing_service.preview_call(
        pool=pool,
        evidence=evidence,
        state=routing,
        config=config,
        call_id=call.id,
        public_body_id=call.public_body_id,
        evidence_before=evidence_before,
    )
    return result, (time.perf_counter() - started) * 1000


def quota_coverage(call: CallRead, result: MatchResult) -> float:
    """Share of the call's quota minimums the panel meets (1.0 without quotas)."""
    wanted = sum(p.min for p in call.perspectives)
    if wanted == 0:
        return 1.0
    missing = sum(max(0, u.wanted - u.found) for u in result.unmet)
    return max(0.0, 1 - missing / wanted)


def _panel_view(config_id: int, call: CallRead, result: MatchResult, ms: float) -> PanelView:
    return PanelView(
        config_id=config_id,
        members=[m.ref for m in result.panel],
        fills={m.ref: m.fills for m in result.panel},
        quota_coverage=round(quota_coverage(call, result), 4),
        unmet=[u.model_dump() for u in result.unmet],
        eligible=result.stats.eligible,
        run_ms=round(ms, 1),
    )


def _why(
    ref: str,
    *,
    joined: bool,
    mine: dict[str, tuple[int, CandidateRead]],
    theirs: dict[str, tuple[int, CandidateRead]],
    fills: list[str],
) -> str:
    here, there = mine.get(ref), theirs.get(ref)
    verb = "joins" if joined else "leaves"
    if there is None:
        which = "the active" if joined else "this"
        return (
            f"{verb} the panel: not a shortlisted candidate under {which} configuration "
            "(below min_similarity, filtered, or ranked beyond the shortlist)"
        )
    if here is None:
        return f"{verb} the panel"
    (rank, candidate), (other_rank, other) = here, there
    deltas = {
        part: getattr(candidate.adjustments, part) - getattr(other.adjustments, part)
        for part in PARTS
    }
    moved = sorted(
        ((p, d) for p, d in deltas.items() if abs(d) >= 5e-4), key=lambda item: -abs(item[1])
    )
    parts = ", ".join(f"{p} {d:+.3f}" for p, d in moved[:3]) or "no score part changed"
    text = (
        f"{verb} the panel: score {other.score:.3f} -> {candidate.score:.3f} ({parts}); "
        f"rank {other_rank} -> {rank}"
    )
    if joined and fills and fills != ["relevance"]:
        text += f"; fills {', '.join(fills)}"
    return text


def compare(
    *,
    call: CallRead,
    config_id: int,
    active_id: int,
    result: MatchResult,
    active_result: MatchResult,
    ms: float,
    active_ms: float,
    settings_changed: dict[str, dict[str, Any]],
) -> PreviewResult:
    mine = {c.ref: (i + 1, c) for i, c in enumerate(result.candidates)}
    theirs = {c.ref: (i + 1, c) for i, c in enumerate(active_result.candidates)}
    panel = [m.ref for m in result.panel]
    active_panel = [m.ref for m in active_result.panel]
    fills = {m.ref: m.fills for m in result.panel}
    active_fills = {m.ref: m.fills for m in active_result.panel}

    def person(ref: str, *, joined: bool) -> PersonChange:
        here, there = mine.get(ref), theirs.get(ref)
        candidate = (here or there)[1]  # type: ignore[index]
        return PersonChange(
            ref=ref,
            score=here[1].score if here else None,
            active_score=there[1].score if there else None,
            rank=here[0] if here else None,
            active_rank=there[0] if there else None,
            roles=candidate.roles,
            why=_why(
                ref,
                joined=joined,
                mine=mine if joined else theirs,
                theirs=theirs if joined else mine,
                fills=(fills if joined else active_fills).get(ref, []),
            ),
        )

    joined = [person(ref, joined=True) for ref in panel if ref not in set(active_panel)]
    left = [person(ref, joined=False) for ref in active_panel if ref not in set(panel)]

    def holders(refs: list[str], lookup: dict[str, tuple[int, CandidateRead]], role: str) -> int:
        return sum(1 for ref in refs if ref in lookup and role in lookup[ref][1].roles)

    quotas = [
        QuotaView(
            role=p.role,
            min=p.min,
            max=p.max,
            config=holders(panel, mine, p.role),
            active=holders(active_panel, theirs, p.role),
        )
        for p in call.perspectives
    ]
    shifts = [
        ScoreShift(
            ref=ref,
            score=candidate.score,
            active_score=theirs[ref][1].score,
            delta=round(candidate.score - theirs[ref][1].score, 6),
            parts={
                part: round(
                    getattr(candidate.adjustments, part)
                    - getattr(theirs[ref][1].adjustments, part),
                    6,
                )
                for part in PARTS
            },
        )
        for ref, (_, candidate) in mine.items()
        if ref in theirs
    ]
    shifts.sort(key=lambda s: -abs(s.delta))
    view = _panel_view(config_id, call, result, ms)
    active_view = _panel_view(active_id, call, active_result, active_ms)
    summary = (
        f"{len(joined)} in, {len(left)} out of a panel of {len(panel)}; quota coverage "
        f"{active_view.quota_coverage:.0%} -> {view.quota_coverage:.0%}; "
        f"{len(settings_changed)} setting(s) differ from the active configuration"
    )
    return PreviewResult(
        call_id=call.id,
        config_id=config_id,
        active_config_id=active_id,
        settings_changed=settings_changed,
        panel=view,
        active_panel=active_view,
        joined=joined,
        left=left,
        quotas=quotas,
        score_shifts=shifts[:SCORE_SHIFTS_SHOWN],
        summary=summary,
    )


def settings_diff(config: MatchingConfig, active: MatchingConfig) -> dict[str, dict[str, Any]]:
    mine, theirs = config.model_dump(mode="json"), active.model_dump(mode="json")
    return {
        key: {"config": mine[key], "active": theirs.get(key)}
        for key in mine
        if mine[key] != theirs.get(key)
    }


async def preview(
    *,
    pool: asyncpg.Pool[Any],
    evidence: EvidenceService,
    routing: RoutingState,
    state: ConfigsState,
    config_id: int,
    call_id: uuid.UUID,
) -> PreviewResult:
    config = await config_by_id(pool=pool, state=state, config_id=config_id)
    active_id, active = await active_config(pool=pool, state=state)
    call = await call_for_admin(pool=pool, call_id=call_id)
    result, ms = await run_match(
        pool=pool, evidence=evidence, routing=routing, config=config, call=call
    )
    active_result, active_ms = await run_match(
        pool=pool, evidence=evidence, routing=routing, config=active, call=call
    )
    return compare(
        call=call,
        config_id=config_id,
        active_id=active_id,
        result=result,
        active_result=active_result,
        ms=ms,
        active_ms=active_ms,
        settings_changed=settings_diff(config, active),
    )
