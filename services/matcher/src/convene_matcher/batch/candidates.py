"""Each call's eligible, scored candidates from routing's one pipeline.

``routing.service.route_calls`` (the entry point single-call routing uses too: the same
query texts, relevance with the lexical part and the "not my expertise" damping, hard
filters including this month's invitation caps, and the weighted score), one embedding
batch for every call of the batch. ``Routed.ranked`` (the shortlist plus each wanted role's
best holders, best first) is the call's pool; the panel routing picks for the call alone
is not picked here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from convene_matcher.calls.schemas import CallRead
from convene_matcher.index.service import EvidenceService
from convene_matcher.routing.frame import Routed, Scored
from convene_matcher.routing.service import route_calls
from convene_matcher.scoring import MatchingConfig


async def route_batch(
    *,
    pool: asyncpg.Pool[Any],
    evidence: EvidenceService,
    config: MatchingConfig,
    calls: Sequence[CallRead],
    invitations: Mapping[str, tuple[int, int]],
    now: datetime,
) -> list[Routed]:
    """Per call (same order): routing's result, with erased citizens dropped from its
    ranking."""
    # The batch picks every call's panel together: no panel of each call alone (its solver
    # took up to panel_solver_time_limit_seconds per call, 20 s for a body's open calls).
    routed = await route_calls(
        pool=pool,
        evidence=evidence,
        config=config,
        calls=calls,
        now=now,
        invitations=invitations,
        with_panel=False,
    )
    for one in routed:
        one.ranked = [s for s in one.ranked if s.citizen_id in evidence.store]
    return routed


async def route_candidates(
    *,
    pool: asyncpg.Pool[Any],
    evidence: EvidenceService,
    config: MatchingConfig,
    calls: Sequence[CallRead],
    invitations: Mapping[str, tuple[int, int]],
    now: datetime,
) -> list[list[Scored]]:
    """Per call (same order): its eligible candidates, best first; erased ones dropped."""
    routed = await route_batch(
        pool=pool, evidence=evidence, config=config, calls=calls, invitations=invitations, now=now
    )
    return [one.ranked for one in routed]
