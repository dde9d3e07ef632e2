"""PUT /v1/citizens/{id}/email-verification: the gateway tells profiles an address is
verified (or a verified new address); the change feed then carries effective consent."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response

from convene_common.problems import problem_responses
from convene_profiles.changes import service as changes_service
from convene_profiles.citizens import repository
from convene_profiles.citizens.schemas import EmailVerificationUpdate
from convene_profiles.citizens.service import lock_citizen
from convene_profiles.config import ProfilesSettings
from convene_profiles.dependencies import Pool, get_pool, get_settings

router = APIRouter(prefix="/v1/citizens", tags=["citizens"])


@router.put(
    "/{citizen_id}/email-verification",
    status_code=204,
    responses=problem_responses(404, 422),
)
async def set_email_verification(
    citizen_id: UUID,
    data: EmailVerificationUpdate,
    pool: Annotated[Pool, Depends(get_pool)],
    settings: Annotated[ProfilesSettings, Depends(get_settings)],
) -> Response:
    async with pool.acquire() as connection, connection.transaction():
        await lock_citizen(connection, citizen_id=citizen_id)
        await repository.set_email_verified(
            connection,
            citizen_id=citizen_id,
            verified=data.verified,
            email=str(data.email) if data.email is not None else None,
        )
        await changes_service.record_upserts(
            connection, citizen_ids=[citizen_id], policy=settings.rating_policy()
        )
    return Response(status_code=204)
