from __future__ import annotations

from fastapi import APIRouter

from convene_common.problems import problem_responses
from convene_matcher.affinity import service
from convene_matcher.affinity.schemas import AffinityRequest, AffinityResponse
from convene_matcher.dependencies import EmbedderDep, SettingsDep, StartupConfigDep

router = APIRouter(prefix="/v1/affinity", tags=["affinity"])


@router.post("", responses=problem_responses(400, 401, 413, 422, 503))
async def affinity(
    body: AffinityRequest,
    embedder: EmbedderDep,
    settings: SettingsDep,
    config: StartupConfigDep,
) -> AffinityResponse:
    """Scores each candidate text for one person's evidence (higher = better placed).

    Deterministic; the scores rank candidates for this person (the gold-standard contract).
    """
    return await service.score(body, embedder=embedder, settings=settings, config=config)
