from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from convene_common.problems import problem_responses
from convene_profiles.changes import service
from convene_profiles.changes.schemas import ChangeList
from convene_profiles.dependencies import PoolDep, SettingsDep

router = APIRouter(prefix="/v1/changes", tags=["changes"])


@router.get("", responses=problem_responses(422))
async def read_changes(
    pool: PoolDep,
    settings: SettingsDep,
    # seq is a bigint: anything larger is a 422, not a database error.
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    wait_seconds: Annotated[float, Query(ge=0, le=25)] = 0,
) -> ChangeList:
    """Changes with seq > after, oldest first. Pass last_seq back as `after` next time."""
    return await service.read_changes(
        pool,
        after=after,
        limit=limit,
        wait_seconds=min(wait_seconds, settings.changes_max_wait_seconds),
        poll_interval=settings.changes_poll_interval_seconds,
    )
