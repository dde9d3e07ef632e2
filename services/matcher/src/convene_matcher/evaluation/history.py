"""History evaluation: replay labelled calls through routing under each configuration.

Per call (routing's pipeline through ``preview_call``, so nothing is stored): the ranked
shortlist and the panel. Figures (see ``metrics`` for the formulas):

- ``ndcg_at_10``: mean over calls with at least one relevant label;
- ``acceptance_rate_at_10``: mean over calls where someone in the top 10 answered;
- ``quota_coverage``: mean over calls of the share of quota minimums the panel meets;
- ``top5_share`` and ``gini``: panel seats over every citizen shortlisted for any replayed
  call under that configuration (the people it could have picked);
- ``new_voices_rate``: share of panel seats going to citizens with no invitation in the
  exposure ledger before the call and no rated contribution;
- ``seconds`` and ``ms_per_call``: routing time of the replay.

Each call is replayed against the evidence as it stood before the call: ratings and rated
contributions dated at or after the call's creation are left out (a rated contributor would
otherwise hold the call's own title as evidence: the label leaking into the features), and
"new voices" count only contributions rated before it. Other evidence carries no date in the
feed and is today's; exposure is today's ledger.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import anyio
import asyncpg

from convene_matcher.calls.schemas import CallRead
from convene_matcher.calls.service import get_call
from convene_matcher.configs.preview import quota_coverage, run_match
from convene_matcher.errors import MatcherError
from convene_matcher.evaluation import metrics, repository
from convene_matcher.index.service import EvidenceService
from convene_matcher.routing.dependencies import RoutingState
from convene_matcher.routing.refs import candidate_ref
from convene_matcher.routing.schemas import MatchResult
from convene_matcher.scoring import MatchingConfig

Progress = Callable[[float], Awaitable[None]]


class NoHistoryError(MatcherError):
    status = 409
    slug = "no-labelled-history"


@dataclass
class LabelledCall:
    call_id: uuid.UUID
    public_body_id: uuid.UUID
    created_at: datetime
    relevant: set[str] = field(default_factory=set)
    not_relevant: set[str] = field(default_factory=set)
    answers: dict[str, str] = field(default_factory=dict)


async def load_labelled_calls(*, pool: asyncpg.Pool[Any], limit: int | None) -> list[LabelledCall]:
    async with pool.acquire() as connection:
        rows = await repository.labelled_outcomes(connection, limit=limit)
    calls: dict[uuid.UUID, LabelledCall] = {}
    for row in rows:
        call = calls.setdefault(
            row["call_id"],
            LabelledCall(row["call_id"], row["public_body_id"], row["created_at"]),
        )
        citizen = row["citizen_id"]
        call.answers[citizen] = row["answer"]
        label = metrics.relevance_label(
            answer=row["answer"], decline_reason=row["decline_reason"], rating=row["rating"]
        )
        if label is True:
            call.relevant.add(citizen)
        elif label is False:
            call.not_relevant.add(citizen)
    return [c for c in calls.values() if c.relevant or c.not_relevant]


@dataclass
class _Tally:
    ndcg: list[float | None] = field(default_factory=list)
    acceptance: list[float | None] = field(default_factory=list)
    coverage: list[float] = field(default_factory=list)
    seats: Counter[str] = field(default_factory=Counter)
    population: set[str] = field(default_factory=set)
    new_voice_seats: int = 0
    seconds: float = 0.0

    def figures(self, config_id: int) -> dict[str, Any]:
        population = [self.seats.get(c, 0) for c in self.population | set(self.seats)]
        total_seats = sum(self.seats.values())
        calls = len(self.coverage)
        return {
            "config_id": config_id,
            "ndcg_at_10": _round(metrics.mean(self.ndcg)),
            "acceptance_rate_at_10": _round(metrics.mean(self.acceptance)),
            "quota_coverage": _round(metrics.mean(list(self.coverage))),
            "top5_share": _round(metrics.top_share(population)),
            "gini": _round(metrics.gini(population)),
            "new_voices_rate": _round(self.new_voice_seats / total_seats if total_seats else None),
            "calls": calls,
            "calls_with_relevant": sum(1 for v in self.ndcg if v is not None),
            "calls_with_answers_in_top_10": sum(1 for v in self.acceptance if v is not None),
            "panel_seats": total_seats,
            "distinct_panelists": len(self.seats),
            "seconds": round(self.seconds, 3),
            "ms_per_call": round(1000 * self.seconds / calls, 1) if calls else None,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _ref_map(secret: bytes, call_id: uuid.UUID, citizen_ids: list[str]) -> dict[str, str]:
    return {candidate_ref(secret=secret, call_id=call_id, citizen_id=c): c for c in citizen_ids}


async def replay_call(
    *,
    pool: asyncpg.Pool[Any],
    evidence: EvidenceService,
    routing: RoutingState,
    config: MatchingConfig,
    call: CallRead,
) -> MatchResult:
    """The call routed again (nothing stored) against the evidence before its creation."""
    result, _ = await run_match(
        pool=pool,
        evidence=evidence,
        routing=routing,
        config=config,
        call=call,
        evidence_before=call.created_at,
    )
    return result


async def evaluate_history(
    *,
    pool: asyncpg.Pool[Any],
    evidence: EvidenceService,
    routing: RoutingState,
    configs: list[tuple[int, MatchingConfig]],
    limit: int | None,
    progress: Progress,
) -> dict[str, Any]:
    calls = await load_labelled_calls(pool=pool, limit=limit)
    if not calls:
        raise NoHistoryError(
            "No labelled history: no call has invitation answers or ratings yet (run "
            "`python -m scripts.demo.history` for simulated history)."
        )
    tallies = [_Tally() for _ in configs]
    steps, done = len(calls) * len(configs), 0
    for labelled in calls:
        call = await get_call(
            pool=pool, call_id=labelled.call_id, public_body_id=labelled.public_body_id
        )
        # Refs are one-way: map them back over the citizens the store holds (off the loop).
        citizen_ids = [citizen_id for citizen_id, _ in evidence.store.citizens()]
        refs = await anyio.to_thread.run_sync(_ref_map, routing.ref_secret, call.id, citizen_ids)
        for (_, config), tally in zip(configs, tallies, strict=True):
            started = time.perf_counter()
            result = await replay_call(
                pool=pool, evidence=evidence, routing=routing, config=config, call=call
            )
            tally.seconds += time.perf_counter() - started
            ranked = [refs[c.ref] for c in result.candidates if c.ref in refs]
            panel = [refs[m.ref] for m in result.panel if m.ref in refs]
            tally.ndcg.append(metrics.ndcg_at_k(ranked, labelled.relevant))
            tally.acceptance.append(metrics.acceptance_at_k(ranked, labelled.answers))
            tally.coverage.append(quota_coverage(call, result))
            tally.population.update(ranked)
            tally.seats.update(panel)
            async with pool.acquire() as connection:
                seen = await repository.invited_before(
                    connection, citizen_ids=panel, before=call.created_at
                )
            for citizen_id in panel:
                record = evidence.store.get(citizen_id)
                rated = bool(
                    record
                    and any(
                        c.rated_at is None or c.rated_at < call.created_at
                        for c in record.snapshot.contributions
                    )
                )
                if citizen_id not in seen and not rated:
                    tally.new_voice_seats += 1
            done += 1
            await progress(100 * done / steps)
    figures = [
        tally.figures(config_id) for (config_id, _), tally in zip(configs, tallies, strict=True)
    ]
    labels = {
        "relevant": sum(len(c.relevant) for c in calls),
        "not_relevant": sum(len(c.not_relevant) for c in calls),
    }
    return {"calls": len(calls), "labels": labels, "figures": figures}
