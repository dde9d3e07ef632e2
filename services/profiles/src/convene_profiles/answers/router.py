from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response, status

from convene_common.problems import problem_responses
from convene_profiles.answers import service
from convene_profiles.answers.schemas import AnswerList, AnswersImported
from convene_profiles.dependencies import PoolDep, SettingsDep

router = APIRouter(tags=["answers"])

# A fixed path (the citizen in the query), so the body-size limit can name it.
ANSWERS_IMPORT_PATH = "/v1/answers-imports"


@router.post(
    ANSWERS_IMPORT_PATH,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(400, 404, 409, 413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def import_answers(
    citizen_id: UUID, request: Request, pool: PoolDep, settings: SettingsDep
) -> AnswersImported:
    """The file (JSON or CSV, sniffed) is the raw body."""
    return await service.import_answers(
        pool, citizen_id=citizen_id, content=await request.body(), settings=settings
    )


@router.get("/v1/citizens/{citizen_id}/answers", responses=problem_responses(422))
async def list_answers(citizen_id: UUID, pool: PoolDep) -> AnswerList:
    return await service.list_answers(pool, citizen_id=citizen_id)


@router.delete(
    "/v1/citizens/{citizen_id}/answers", status_code=204, responses=problem_responses(404, 422)
)
async def delete_answers(citizen_id: UUID, pool: PoolDep, settings: SettingsDep) -> Response:
    await service.delete_answers(pool, citizen_id=citizen_id, settings=settings)
    return Response(status_code=204)
