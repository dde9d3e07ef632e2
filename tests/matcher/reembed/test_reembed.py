"""Blue/green re-embedding on Ray Data, end to end: 50 realistic citizens re-embedded with
another model version while calls are routed; the switch is atomic and survives a restart."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi import FastAPI

from convene_matcher.citizens.schemas import Change, MatchSnapshot
from convene_matcher.config import MatcherSettings
from convene_matcher.index.service import EvidenceService
from tests.matcher.conftest import MatcherHarness
from tests.matcher.routing.test_routing import bike_lane_call, post_call

pytestmark = pytest.mark.slow  # about a minute: Ray's start, a model load per actor


@pytest.fixture(scope="session")
def variant_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The model folder with one layer's weights scaled: another model version, whose
    vectors differ measurably from the original's."""
    from safetensors.torch import load_file, save_file

    source = MatcherSettings().model_path
    target = tmp_path_factory.mktemp("variant-model")
    for entry in source.iterdir():
        if entry.name != "model.safetensors":
            os.symlink(entry, target / entry.name)
    tensors = load_file(str(source / "model.safetensors"))
    tensors["encoder.layer.5.output.dense.weight"] *= 1.3
    save_file(tensors, str(target / "model.safetensors"), metadata={"format": "pt"})
    return target


def realistic_snapshots(count: int, *, start: int = 0) -> list[MatchSnapshot]:
    from bench.realistic.generator import generate_citizens

    snapshots = []
    for person in generate_citizens(count=count, seed=31, start=start):
        # Skills and roles for all, one experience passage for a few (test time).
        experience = person.experiences[:1] if person.number % 3 == 0 else []
        snapshots.append(
            MatchSnapshot.model_validate(
                {
                    "citizen_id": str(person.id),
                    "consent": {"matching": True, "contact": True},
                    "languages": ["en"],
                    "skills": [
                        {"id": f"s{person.number}-{n}", "label": label, "level": "can_do"}
                        for n, (label, _) in enumerate(person.skills)
                    ],
                    "roles": [
                        {"id": f"r{person.number}-{n}", "role": role, "label": role}
                        for n, role in enumerate(person.roles)
                    ],
                    "experience": [
                        {"id": f"e{person.number}", "title": e.title, "description": e.description}
                        for e in experience
                    ],
                }
            )
        )
    return snapshots


async def apply(evidence: EvidenceService, snapshots: list[MatchSnapshot]) -> None:
    first = evidence.seq + 1
    await evidence.apply_changes(
        [
            Change(seq=first + n, citizen_id=s.citizen_id, kind="upsert", snapshot=s)
            for n, s in enumerate(snapshots)
        ]
    )


async def test_reembedding_on_ray_switches_every_vector_at_once(
    harness: MatcherHarness, variant_model: Path, tmp_path: Path
) -> None:
    settings_overrides = {
        "reembed_ray_cpus": 2,
        "reembed_batch_size": 64,
        # The variant's ONNX export (if the backend is onnx) stays with this test.
        "onnx_dir": tmp_path / "onnx",
    }
    app: FastAPI = harness.app(**settings_overrides)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://matcher.test"
        ) as matcher,
    ):
        evidence: EvidenceService = app.state.evidence
        await apply(evidence, realistic_snapshots(50))
        source_model = evidence.index.model_name
        texts_before = evidence.index.count
        assert texts_before > 100
        call = await post_call(matcher, bike_lane_call())

        response = await matcher.post(
            "/v1/index/reembed",
            json={"model_name": "minilm-variant", "model_path": str(variant_model)},
        )
        assert response.status_code == 202, response.text
        job = response.json()
        assert job["source_model"] == source_model
        assert job["target_model"].startswith("minilm-variant@")
        assert job["target_model"] != source_model
        # One job at a time.
        again = await matcher.post(
            "/v1/index/reembed",
            json={"model_name": "minilm-other", "model_path": str(variant_model)},
        )
        assert again.status_code == 409

        # The feed goes on while the job embeds: these citizens reach the old index now and
        # the new one at the switch. Applied once the job has read the store (texts_total),
        # which follows its model load: a load of unknown length (the ONNX backend exports
        # the variant first, ~5 s) must not decide whether they count as caught up.
        deadline = time.monotonic() + 60
        while (status := (await matcher.get(f"/v1/index/reembed/{job['id']}")).json())[
            "texts_total"
        ] == 0:
            assert status["status"] in ("queued", "embedding"), status
            assert time.monotonic() < deadline, status
            await asyncio.sleep(0.1)
        late = realistic_snapshots(2, start=50)
        await apply(evidence, late)

        seen: list[str] = []
        deadline = time.monotonic() + 110
        while True:
            embedder, index = evidence.generation()
            assert index.model_name == embedder.cache_model
            if not seen or seen[-1] != index.model_name:
                seen.append(index.model_name)
            routed = await matcher.post(
                f"/v1/calls/{call['id']}/match",
                params={"public_body_id": call["public_body_id"]},
            )
            assert routed.status_code == 200, routed.text
            status = (await matcher.get(f"/v1/index/reembed/{job['id']}")).json()
            if status["status"] in ("succeeded", "failed"):
                break
            assert time.monotonic() < deadline, status
            await asyncio.sleep(0.2)
        assert status["status"] == "succeeded", status
        if seen[-1] != evidence.index.model_name:
            seen.append(evidence.index.model_name)
        assert seen == [source_model, job["target_model"]]  # the version changed once
        assert status["texts_total"] == texts_before  # read when the job started
        assert status["texts_embedded"] == texts_before  # none cached for the variant
        assert status["texts_caught_up"] >= 1  # the late citizens' texts
        assert evidence.embedder.cache_model == job["target_model"]

        # Every vector the index holds is the variant's vector of its text, none the old's.
        ids, stored = evidence.index.live_vectors()
        assert sorted(ids.tolist()) == sorted(text_id for text_id, _ in evidence.store.texts())
        texts = [evidence.store.text(int(text_id)) or "" for text_id in ids]
        # Embedded by the job's Ray actor; checked against the variant as loaded here.
        expected = evidence.embedder.encode_normalised(texts)
        original = np.asarray(harness.model.encode(texts, normalize_embeddings=True))
        assert (stored * expected).sum(axis=1).min() >= 0.9999
        assert (stored * original).sum(axis=1).max() < 0.9999  # the variant differs

        # Both versions' vectors sit side by side in the cache (blue/green).
        async with app.state.pool.acquire() as connection:
            counts = dict(
                await connection.fetch("SELECT model, count(*) FROM embedding_cache GROUP BY 1")
            )
        assert counts[job["target_model"]] >= len(ids)  # the calls' texts are cached too
        assert counts[source_model] >= texts_before

    # A restart runs the model the job switched to, from the new snapshot.
    restarted = harness.app(**settings_overrides)
    async with restarted.router.lifespan_context(restarted):
        evidence = restarted.state.evidence
        assert evidence.loaded_from_snapshot
        assert evidence.index.model_name == job["target_model"]
        assert evidence.embedder.cache_model == job["target_model"]
        assert evidence.index.count == len(ids)
