"""Evaluation jobs: accepted at once (202), run as a background asyncio task whose CPU work
happens in worker threads (routing's, the embedder's, the metric's), progress persisted after
every step, cancellable through any replica (the job stops at its next progress write).

A job runs in the process that accepted it; jobs a stopped process left unfinished are marked
failed at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from convene_matcher.config import MatcherSettings
from convene_matcher.configs.service import ConfigsState, active_config, config_by_id
from convene_matcher.errors import ConflictError, MatcherError, NotFoundError
from convene_matcher.evaluation import repository
from convene_matcher.evaluation.goldstandard import evaluate_goldstandard
from convene_matcher.evaluation.history import evaluate_history
from convene_matcher.evaluation.schemas import EvaluationCreate, EvaluationRead
from convene_matcher.index.service import EvidenceService
from convene_matcher.routing.dependencies import RoutingState
from convene_matcher.scoring import MatchingConfig

logger = logging.getLogger("convene.matcher.evaluation")

COMPARED_METRICS = {
    "history": (
        "ndcg_at_10",
        "acceptance_rate_at_10",
        "quota_coverage",
        "top5_share",
        "gini",
        "new_voices_rate",
        "ms_per_call",
    ),
    "goldstandard": ("loss", "easy", "hard"),
}


class JobCancelledError(Exception):
    """The job's row left 'running' (cancelled): stop working."""


@dataclass
class EvaluationRunner:
    """The background tasks of this process's evaluation jobs (app.state.evaluations)."""

    tasks: dict[uuid.UUID, asyncio.Task[None]] = field(default_factory=dict)

    async def shutdown(self) -> None:
        for task in list(self.tasks.values()):
            task.cancel()
        for task in list(self.tasks.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await task


@dataclass(frozen=True)
class JobContext:
    pool: asyncpg.Pool[Any]
    evidence: EvidenceService
    routing: RoutingState
    configs: ConfigsState
    settings: MatcherSettings


def _read(row: asyncpg.Record) -> EvaluationRead:
    return EvaluationRead.model_validate(dict(row))


async def start(
    *, context: JobContext, runner: EvaluationRunner, body: EvaluationCreate
) -> EvaluationRead:
    await config_by_id(pool=context.pool, state=context.configs, config_id=body.config_id)
    params: dict[str, Any] = {"limit": body.limit}
    if body.kind == "goldstandard":
        params["variants"] = body.variants
    elif body.variants is not None:
        raise MatcherError("variants apply to gold-standard evaluations only.", status=422)
    job_id = uuid.uuid4()
    async with context.pool.acquire() as connection:
        row = await repository.insert_job(
            connection,
            job_id=job_id,
            config_id=body.config_id,
            kind=body.kind,
            compare_with_active=body.compare_with_active,
            params=params,
            created_by=body.created_by,
        )
    task = asyncio.create_task(_run(context, job_id, body), name=f"evaluation-{job_id}")
    runner.tasks[job_id] = task
    task.add_done_callback(lambda _: runner.tasks.pop(job_id, None))
    logger.info("evaluation queued", extra={"job_id": str(job_id), "kind": body.kind})
    return _read(row)


async def _run(context: JobContext, job_id: uuid.UUID, body: EvaluationCreate) -> None:
    pool = context.pool
    try:
        async with pool.acquire() as connection:
            if not await repository.mark_running(connection, job_id=job_id):
                return
        config = await config_by_id(pool=pool, state=context.configs, config_id=body.config_id)
        configs: list[tuple[int, MatchingConfig]] = [(body.config_id, config)]
        if body.compare_with_active:
            configs.append(await active_config(pool=pool, state=context.configs))
        last_written = -1.0

        async def progress(percent: float) -> None:
            nonlocal last_written
            if percent - last_written < 1 and percent < 100:
                return  # at most about 100 writes a job
            last_written = percent
            async with pool.acquire() as connection:
                running = await repository.set_progress(
                    connection, job_id=job_id, percent=round(min(percent, 99.9), 1)
                )
            if not running:
                raise JobCancelledError

        if body.kind == "history":
            outcome = await evaluate_history(
                pool=pool,
                evidence=context.evidence,
                routing=context.routing,
                configs=configs,
                limit=body.limit,
                progress=progress,
            )
        else:
            outcome = await evaluate_goldstandard(
                embedder=context.evidence.embedder,
                settings=context.settings,
                configs=configs,
                directory=context.settings.goldstandard_dir,
                variants=body.variants,
                limit=body.limit,
                progress=progress,
            )
        result = _with_comparison(body.kind, outcome, compare=body.compare_with_active)
        async with pool.acquire() as connection:
            await repository.finish(connection, job_id=job_id, status="succeeded", result=result)
        logger.info("evaluation succeeded", extra={"job_id": str(job_id)})
    except JobCancelledError:
        logger.info("evaluation cancelled", extra={"job_id": str(job_id)})
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            async with pool.acquire() as connection:
                await repository.cancel(connection, job_id=job_id)
        raise
    except MatcherError as exc:
        await _fail(pool, job_id, exc.detail)
    except Exception as exc:
        logger.exception("evaluation failed", extra={"job_id": str(job_id)})
        await _fail(pool, job_id, f"internal error ({type(exc).__name__}); see the matcher log")


async def _fail(pool: asyncpg.Pool[Any], job_id: uuid.UUID, message: str) -> None:
    async with pool.acquire() as connection:
        await repository.finish(connection, job_id=job_id, status="failed", error=message)
    logger.info("evaluation failed", extra={"job_id": str(job_id)})


def _with_comparison(kind: str, outcome: dict[str, Any], *, compare: bool) -> dict[str, Any]:
    figures = outcome.pop("figures")
    result: dict[str, Any] = {"kind": kind, **outcome, "config": figures[0]}
    result["active"] = figures[1] if compare else None
    if compare:
        result["delta"] = {
            key: (
                round(figures[0][key] - figures[1][key], 4)
                if figures[0].get(key) is not None and figures[1].get(key) is not None
                else None
            )
            for key in COMPARED_METRICS[kind]
        }
    return result


async def get(*, pool: asyncpg.Pool[Any], job_id: uuid.UUID) -> EvaluationRead:
    async with pool.acquire() as connection:
        row = await repository.get_job(connection, job_id=job_id)
    if row is None:
        raise NotFoundError("No such evaluation.")
    return _read(row)


async def cancel(
    *, pool: asyncpg.Pool[Any], runner: EvaluationRunner, job_id: uuid.UUID
) -> EvaluationRead:
    async with pool.acquire() as connection:
        row = await repository.get_job(connection, job_id=job_id)
        if row is None:
            raise NotFoundError("No such evaluation.")
        if not await repository.cancel(connection, job_id=job_id):
            raise ConflictError(f"The evaluation has already ended ({row['status']}).")
    task = runner.tasks.get(job_id)
    if task is not None:
        task.cancel()
    logger.info("evaluation cancel requested", extra={"job_id": str(job_id)})
    return await get(pool=pool, job_id=job_id)


async def recover(*, pool: asyncpg.Pool[Any]) -> None:
    async with pool.acquire() as connection:
        count = await repository.fail_interrupted(connection)
    if count:
        logger.warning("interrupted evaluations marked failed", extra={"count": count})
