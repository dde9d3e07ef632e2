"""Internal routes: the gateway fronts them (POST /v1/admin/imports, /v1/me/imports...)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, status

from convene_common.problems import problem_responses
from convene_profiles.dependencies import PoolDep, SettingsDep
from convene_profiles.imports import service
from convene_profiles.imports.jobs import ImportRunner
from convene_profiles.imports.schemas import (
    CitizenImports,
    DecisionResult,
    ImportAccepted,
    ImportDecision,
    ImportRead,
)

router = APIRouter(tags=["imports"])

IMPORTS_PATH = "/v1/imports"


async def get_runner(request: Request) -> ImportRunner:
    runner: ImportRunner = request.app.state.import_runner
    return runner


RunnerDep = Annotated[ImportRunner, Depends(get_runner)]


@router.post(
    IMPORTS_PATH,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(400, 413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def submit_import(
    request: Request,
    pool: PoolDep,
    settings: SettingsDep,
    runner: RunnerDep,
    file_format: Annotated[Literal["jsonl", "csv"], Query(alias="format")],
    requested_by: Annotated[str, Query(min_length=1, max_length=200)],
    source_body_id: UUID | None = None,
) -> ImportAccepted:
    """The file is the raw body; the job runs off the request (poll GET .../{id})."""
    content = await request.body()
    return await service.submit(
        pool,
        runner=runner,
        settings=settings,
        content=content,
        file_format=file_format,
        source_body_id=source_body_id,
        requested_by=requested_by,
    )


@router.get(IMPORTS_PATH + "/{import_id}", responses=problem_responses(404, 422))
async def read_import(
    import_id: UUID, pool: PoolDep, source_body_id: UUID | None = None
) -> ImportRead:
    return await service.get_job(pool, job_id=import_id, source_body_id=source_body_id)


@router.get("/v1/citizens/{citizen_id}/imports", responses=problem_responses(404, 422))
async def citizen_imports(citizen_id: UUID, pool: PoolDep) -> CitizenImports:
    return await service.citizen_imports(pool, citizen_id=citizen_id)


@router.post("/v1/citizens/{citizen_id}/imports/confirm", responses=problem_responses(404, 422))
async def confirm_imports(
    citizen_id: UUID, data: ImportDecision, pool: PoolDep, settings: SettingsDep
) -> DecisionResult:
    return await service.decide(
        pool, citizen_id=citizen_id, confirm=True, sources=data.sources, settings=settings
    )


@router.post("/v1/citizens/{citizen_id}/imports/decline", responses=problem_responses(404, 422))
async def decline_imports(
    citizen_id: UUID, data: ImportDecision, pool: PoolDep, settings: SettingsDep
) -> DecisionResult:
    return await service.decide(
        pool, citizen_id=citizen_id, confirm=False, sources=data.sources, settings=settings
    )
