"""POST/GET /v1/admin/imports (admins, or managers for their organisation); the citizen's
/v1/me/imports (see, confirm, decline) and /v1/me/answers-import (their Q&A answers)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile, status

from convene_common.problems import problem_responses
from convene_gateway.auth.dependencies import CurrentAdminOrManager, CurrentCitizen
from convene_gateway.clients.profiles_schemas import (
    AnswerRead,
    AnswersImportedRead,
    CitizenImportsRead,
    ImportAccepted,
    ImportDecisionRead,
    ImportRead,
    ItemList,
)
from convene_gateway.dependencies import PoolDep, ProfilesDep, SettingsDep
from convene_gateway.imports import service
from convene_gateway.imports.schemas import ImportDecision
from convene_gateway.imports.service import Importer

DOWNSTREAM = (502, 503, 504)
AUTHED = (401, 403, 422, *DOWNSTREAM)

ADMIN_IMPORTS_PATH = "/v1/admin/imports"
ANSWERS_IMPORT_PATH = "/v1/me/answers-import"

router = APIRouter(tags=["imports"])


@router.post(
    ADMIN_IMPORTS_PATH,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Import past consultation responses (JSON Lines or CSV)",
    responses=problem_responses(400, 413, *AUTHED),
)
async def submit_import(
    principal: CurrentAdminOrManager,
    pool: PoolDep,
    profiles: ProfilesDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="The file: JSON Lines or CSV (UTF-8).")],
    format: Annotated[Literal["jsonl", "csv"], Form(description="jsonl or csv")],
) -> ImportAccepted:
    """Rows: {source, external_id, respondent_email, responded_at, question, response_text,
    rating?}. The import runs as a job: poll ``GET /v1/admin/imports/{id}``. A manager's
    rows carry their organisation as source body. docs/imports.md has the format and limits."""
    return await service.submit(
        pool=pool,
        profiles=profiles,
        importer=Importer(principal),
        upload=file,
        file_format=format,
        limit=settings.imports_max_file_bytes,
    )


@router.get(
    ADMIN_IMPORTS_PATH + "/{import_id}",
    summary="An import's progress and report (rejected rows by line)",
    responses=problem_responses(404, *AUTHED),
)
async def read_import(
    import_id: uuid.UUID, principal: CurrentAdminOrManager, profiles: ProfilesDep
) -> ImportRead:
    return await service.read(profiles=profiles, importer=Importer(principal), import_id=import_id)


@router.get(
    "/v1/me/imports",
    summary="Your past responses found in imports, waiting for your yes",
    responses=problem_responses(*AUTHED),
)
async def my_imports(citizen: CurrentCitizen, profiles: ProfilesDep) -> CitizenImportsRead:
    return await profiles.citizen_imports(citizen_id=citizen.citizen_id)


@router.post(
    "/v1/me/imports/confirm",
    summary="Use your pending past responses as evidence",
    responses=problem_responses(*AUTHED),
)
async def confirm_imports(
    body: ImportDecision, citizen: CurrentCitizen, profiles: ProfilesDep
) -> ImportDecisionRead:
    return await profiles.decide_imports(
        citizen_id=citizen.citizen_id, confirm=True, sources=body.sources
    )


@router.post(
    "/v1/me/imports/decline",
    summary="Do not use your pending past responses (their texts are deleted)",
    responses=problem_responses(*AUTHED),
)
async def decline_imports(
    body: ImportDecision, citizen: CurrentCitizen, profiles: ProfilesDep
) -> ImportDecisionRead:
    return await profiles.decide_imports(
        citizen_id=citizen.citizen_id, confirm=False, sources=body.sources
    )


@router.post(
    ANSWERS_IMPORT_PATH,
    status_code=status.HTTP_201_CREATED,
    summary="Upload your answers from a question-and-answer site (JSON or CSV)",
    responses=problem_responses(400, 409, 413, *AUTHED),
)
async def import_answers(
    citizen: CurrentCitizen,
    profiles: ProfilesDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="docs/answers-import.md: JSON or CSV.")],
) -> AnswersImportedRead:
    content = await service.read_upload(file, limit=settings.answers_max_file_bytes)
    return await profiles.import_answers(citizen_id=citizen.citizen_id, content=content)


@router.get(
    "/v1/me/answers",
    summary="Your uploaded answers from question-and-answer sites",
    responses=problem_responses(*AUTHED),
)
async def my_answers(citizen: CurrentCitizen, profiles: ProfilesDep) -> ItemList[AnswerRead]:
    return await profiles.list_answers(citizen_id=citizen.citizen_id)


@router.delete(
    "/v1/me/answers",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove all your uploaded answers",
    responses=problem_responses(404, *AUTHED),
)
async def delete_my_answers(citizen: CurrentCitizen, profiles: ProfilesDep) -> None:
    await profiles.delete_answers(citizen_id=citizen.citizen_id)
