"""The gold-standard benchmark in-process, under a configuration's scoring knobs.

The shared harness (``<goldstandard_dir>/evaluate.py``, read at run time: its data is never
copied into the project) loads the data and computes the metric; each researcher x variant
is scored by the affinity rule (``affinity.service.score``, what POST /v1/affinity answers)
with the configuration given, exactly as the harness's ``http`` method would over HTTP.

Figures: loss (rating-gap-weighted share of mis-ordered pairs, ties half; 0 perfect, 0.5
random), easy and hard pair accuracy, each the mean over the variants run.
"""

from __future__ import annotations

import importlib.util
import math
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import numpy as np

from convene_matcher.affinity import service as affinity_service
from convene_matcher.affinity.schemas import AffinityRequest
from convene_matcher.config import MatcherSettings
from convene_matcher.embedding.embedder import Embedder
from convene_matcher.errors import MatcherError
from convene_matcher.scoring import MatchingConfig

Progress = Callable[[float], Awaitable[None]]
ALL_VARIANTS = list(range(1, 11))


class GoldStandardUnavailableError(MatcherError):
    status = 409
    slug = "goldstandard-unavailable"


def _load_harness(directory: Path) -> ModuleType:
    script = directory / "evaluate.py"
    if not directory.is_dir() or not script.is_file():
        raise GoldStandardUnavailableError(
            f"The gold-standard benchmark folder {directory} (with evaluate.py) is absent; "
            "set CONVENE_MATCHER_GOLDSTANDARD_DIR to its path."
        )
    spec = importlib.util.spec_from_file_location("convene_goldstandard_harness", script)
    if spec is None or spec.loader is None:
        raise GoldStandardUnavailableError(f"Cannot load {script}.")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load(directory: Path, variants: list[int]) -> tuple[ModuleType, dict[str, Any]]:
    harness = _load_harness(directory)
    try:
        data: dict[str, Any] = harness.load_dataset(str(directory), variants)
    except SystemExit as exc:  # the harness reports missing files by exiting
        raise GoldStandardUnavailableError(f"The gold-standard data is incomplete: {exc}") from exc
    except OSError as exc:
        raise GoldStandardUnavailableError(f"The gold-standard data is unreadable: {exc}") from exc
    return harness, data


async def evaluate_goldstandard(
    *,
    embedder: Embedder,
    settings: MatcherSettings,
    configs: list[tuple[int, MatchingConfig]],
    directory: Path,
    variants: list[int] | None,
    limit: int | None,
    progress: Progress,
) -> dict[str, Any]:
    chosen = variants or ALL_VARIANTS
    harness, data = await anyio.to_thread.run_sync(_load, directory, chosen)
    participants = sorted(data["refs"])[:limit] if limit else sorted(data["refs"])
    refs = {r: data["refs"][r] for r in participants}
    ones = np.ones((1, len(participants)))
    steps = len(configs) * len(data["variants"]) * len(participants)
    done = 0
    figures = []
    for config_id, config in configs:
        started = time.perf_counter()
        per_variant: dict[str, dict[str, float | None]] = {}
        for name, variant in data["variants"].items():
            predictions: dict[str, dict[str, float]] = {}
            for researcher in participants:
                payload, candidates = harness._contract_payload(variant, refs, researcher)
                answer = await affinity_service.score(
                    AffinityRequest.model_validate(payload),
                    embedder=embedder,
                    settings=settings,
                    config=config,
                )
                predictions[researcher] = {
                    c["id"]: s for c, s in zip(candidates, answer.scores, strict=True)
                }
                done += 1
                await progress(100 * done / steps)
            terms = await anyio.to_thread.run_sync(
                harness.participant_terms, predictions, refs, participants
            )
            point = harness.stats_from_terms(terms, ones)
            per_variant[name] = {k: _finite(float(v[0])) for k, v in point.items()}
        figures.append(
            {
                "config_id": config_id,
                **{
                    key: _mean([pv[key] for pv in per_variant.values()])
                    for key in ("loss", "easy", "hard")
                },
                "per_variant": per_variant,
                "seconds": round(time.perf_counter() - started, 2),
            }
        )
    table = getattr(harness, "PAPER_TABLE", None)
    published = (
        {
            method: dict(zip(("loss", "easy", "hard"), values, strict=False))
            for method, values in table.items()
        }
        if isinstance(table, dict)
        else None
    )
    return {
        "researchers": len(participants),
        "ratings": sum(len(v) for v in refs.values()),
        "variants": list(data["variants"]),
        "figures": figures,
        "published": published,
    }


def _finite(value: float) -> float | None:
    return round(value, 4) if math.isfinite(value) else None


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(sum(present) / len(present), 4) if present else None
