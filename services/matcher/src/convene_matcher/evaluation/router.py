"""Internal evaluation-job API; the gateway exposes it to admins under /v1/admin/evaluations."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status

from convene_common.problems import problem_responses
from convene_matcher.configs.dependencies import configs_state
from convene_matcher.dependencies import ready_evidence
from convene_matcher.evaluation import service
from convene_matcher.evaluation.schemas import EvaluationCreate, EvaluationRead
from convene_matcher.routing.dependencies import routing_state

router = APIRouter(prefix="/v1/evaluations", tags=["evaluations"])


def _runner(request: Request) -> service.EvaluationRunner:
    runner: service.EvaluationRunner | None = getattr(request.app.state, "evaluations", None)
    if runner is None:
        runner = request.app.state.evaluations = service.EvaluationRunner()
    return runner


@router.post(
    "", status_code=status.HTTP_202_ACCEPTED, responses=problem_responses(401, 404, 422, 503)
)
async def start_evaluation(body: EvaluationCreate, request: Request) -> EvaluationRead:
    """Queues an evaluation job and answers at once; poll GET /v1/evaluations/{id}."""
    context = service.JobContext(
        pool=request.app.state.pool,
        evidence=ready_evidence(request),
        routing=routing_state(request),
        configs=configs_state(request),
        settings=request.app.state.settings,
    )
    return await service.start(context=context, runner=_runner(request), body=body)


@router.get("/{job_id}", responses=problem_responses(401, 404, 422))
async def get_evaluation(job_id: uuid.UUID, request: Request) -> EvaluationRead:
    return await service.get(pool=request.app.state.pool, job_id=job_id)


@router.post("/{job_id}/cancel", responses=problem_responses(401, 404, 409, 422))
async def cancel_evaluation(job_id: uuid.UUID, request: Request) -> EvaluationRead:
    return await service.cancel(pool=request.app.state.pool, runner=_runner(request), job_id=job_id)
