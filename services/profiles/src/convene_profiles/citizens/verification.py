"""PUT /v1/citizens/{id}/email-verification: the gateway tells profiles an address is
verified (or a verified new address); the change feed then carries effective consent."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response

from convene_common.db import Pool
from convene_common.problems import problem_responses
from convene_profiles.citizens import repository
from convene_profiles.citizens.schemas import EmailVerificationUpdate
from convene_profiles.config import ProfilesSettings
from convene_profiles.dependencies import SealerDep, get_pool, get_settings
from convene_profiles.imports.service import claim_for_address
from convene_profiles.unit_of_work import citizen_change

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
    sealer: SealerDep,
) -> Response:
    """A verified address also claims the imported past responses sealed under it: they
    become pending the citizen's confirmation (not evidence yet)."""
    async with citizen_change(pool, citizen_id=citizen_id, settings=settings) as connection:
        await repository.set_email_verified(
            connection,
            citizen_id=citizen_id,
            verified=data.verified,
            email=str(data.email) if data.email is not None else None,
        )
        if data.verified:
            row = await repository.get_citizen(connection, citizen_id=citizen_id)
            if row is not None:
                await claim_for_address(
                    connection, citizen_id=citizen_id, email=row["email"], sealer=sealer
                )
    return Response(status_code=204)
