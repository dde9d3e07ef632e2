"""The re-embedding API's refusals (no job starts, so no Ray): cheap checks."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from convene_matcher.config import MatcherSettings
from convene_matcher.index.evidence_index import EvidenceIndex, IndexMismatchError
from convene_matcher.index.service import EvidenceService


async def test_the_running_model_version_is_refused_as_a_target(
    matcher: httpx.AsyncClient, matcher_app: FastAPI
) -> None:
    current = MatcherSettings()
    response = await matcher.post(
        "/v1/index/reembed",
        json={"model_name": current.model_name, "model_path": str(current.model_path)},
    )
    assert response.status_code == 409, response.text
    assert "already runs" in response.json()["detail"]
    # Another backend of the same weights is the same model version (equal vectors).
    other_backend = "torch" if current.embedding_backend != "torch" else "onnx"
    other = await matcher.post(
        "/v1/index/reembed", json={"model_name": current.model_name, "backend": other_backend}
    )
    assert other.status_code == 409


async def test_a_missing_folder_unknown_fields_and_jobs_are_refused(
    matcher: httpx.AsyncClient, tmp_path: Path
) -> None:
    missing = await matcher.post(
        "/v1/index/reembed", json={"model_name": "x", "model_path": str(tmp_path / "nope")}
    )
    assert missing.status_code == 422
    empty = await matcher.post(
        "/v1/index/reembed", json={"model_name": "x", "model_path": str(tmp_path)}
    )
    assert empty.status_code == 422  # a folder without weights
    extra = await matcher.post("/v1/index/reembed", json={"model_name": "x", "force": True})
    assert extra.status_code == 422
    unknown = await matcher.get(f"/v1/index/reembed/{uuid.uuid4()}")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")


async def test_a_switch_to_an_index_of_another_model_version_is_refused(
    matcher_app: FastAPI,
) -> None:
    evidence: EvidenceService = matcher_app.state.evidence
    before = evidence.generation()
    stranger = EvidenceIndex(model_name="another@0/fp32|whole", dimension=evidence.index.dimension)
    with pytest.raises(IndexMismatchError):
        await evidence.switch_model(embedder=evidence.embedder, index=stranger, texts={})
    assert evidence.generation() == before
