from __future__ import annotations

import math

import httpx
import numpy as np
import pytest
from fastapi import FastAPI

from convene_matcher.evidence.items import EvidenceItem
from convene_matcher.scoring import (
    Hit,
    MatchingConfig,
    aggregate_top_k,
    citizen_relevance,
    relevance_matrix,
)
from tests.matcher.conftest import MatcherHarness

PAPERS = [
    {"id": "p1", "title": "Protected bicycle lanes", "abstract": "Safety of cycle tracks."},
    {"id": "p2", "title": "Traffic calming in residential streets", "abstract": "Speed humps."},
    {"id": "p3", "title": "Bus priority at junctions", "abstract": "Signal timing for buses."},
    {"id": "p4", "title": "", "abstract": "", "text": "Cycling participation of children."},
]
CANDIDATES = [
    {"id": "c1", "title": "Tax law reform", "abstract": "Corporate taxation in the EU."},
    {"id": "c2", "title": "Cycle lane network design", "abstract": "Where to build bike lanes."},
    {"id": "c3", "title": "Protein folding", "abstract": "Deep learning for structures."},
]


def body(papers: list[dict[str, str]], candidates: list[dict[str, str]]) -> dict[str, object]:
    return {"researcher": {"id": "r1", "papers": papers}, "candidates": candidates}


async def test_affinity_contract_and_order(matcher: httpx.AsyncClient) -> None:
    response = await matcher.post("/v1/affinity", json=body(PAPERS, CANDIDATES))
    assert response.status_code == 200, response.text
    scores = response.json()["scores"]
    assert len(scores) == 3
    assert all(math.isfinite(s) for s in scores)
    assert scores[1] > scores[0]
    assert scores[1] > scores[2]


async def test_affinity_is_deterministic_and_order_independent(
    matcher: httpx.AsyncClient,
) -> None:
    first = (await matcher.post("/v1/affinity", json=body(PAPERS, CANDIDATES))).json()
    second = (await matcher.post("/v1/affinity", json=body(PAPERS, CANDIDATES))).json()
    assert first == second
    reversed_scores = (
        await matcher.post("/v1/affinity", json=body(PAPERS, CANDIDATES[::-1]))
    ).json()["scores"]
    assert reversed_scores == first["scores"][::-1]


async def test_affinity_accepts_harness_extras_and_stores_nothing(
    matcher_app: FastAPI, matcher: httpx.AsyncClient
) -> None:
    papers = [{**paper, "year": "2021"} for paper in PAPERS]
    response = await matcher.post("/v1/affinity", json=body(papers, CANDIDATES))
    assert response.status_code == 200
    async with matcher_app.state.pool.acquire() as connection:
        assert await connection.fetchval("SELECT count(*) FROM embedding_cache") == 0
    assert matcher_app.state.evidence.index.count == 0


async def test_affinity_uses_the_routing_rule(
    matcher_app: FastAPI, matcher: httpx.AsyncClient
) -> None:
    scores = (await matcher.post("/v1/affinity", json=body(PAPERS, CANDIDATES))).json()["scores"]
    embedder = matcher_app.state.evidence.embedder
    texts = [p.get("text") or f"{p['title']}. {p['abstract']}" for p in PAPERS]
    papers = await embedder.embed(texts)
    call_text = f"{CANDIDATES[1]['title']}. {CANDIDATES[1]['abstract']}"
    candidate = (await embedder.embed([call_text]))[0]
    hits = [
        Hit(EvidenceItem(i, "r1", "experience", f"p{i}", text, {}), float(vector @ candidate))
        for i, (text, vector) in enumerate(zip(texts, papers, strict=True))
    ]
    config = MatchingConfig()
    assert config.lexical_weight > 0
    expected = citizen_relevance(hits, config=config, query_text=call_text)
    assert scores[1] == pytest.approx(expected, abs=1e-5)
    # The lexical part is in: "lane(s)" and "cycle" are shared with p1.
    assert expected != pytest.approx(citizen_relevance(hits, config=config), abs=1e-4)


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"researcher": {"id": "r", "papers": PAPERS}}, 422),  # no candidates
        ({**body(PAPERS, CANDIDATES), "extra": 1}, 422),  # unknown field
        (body(PAPERS, [{"id": "c", "title": "", "abstract": ""}]), 400),  # empty text
        (body(PAPERS, [{"id": "c", "title": "x" * 30_000, "abstract": ""}]), 413),
        (body(PAPERS * 60, CANDIDATES), 413),  # 240 papers > 200
    ],
)
async def test_affinity_rejects_bad_input(
    matcher: httpx.AsyncClient, payload: dict[str, object], status: int
) -> None:
    response = await matcher.post("/v1/affinity", json=payload)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_affinity_without_papers_scores_zero(matcher: httpx.AsyncClient) -> None:
    response = await matcher.post("/v1/affinity", json=body([], CANDIDATES[:2]))
    assert response.json() == {"scores": [0.0, 0.0]}


async def test_internal_token_is_required_when_set(harness: MatcherHarness) -> None:
    from pydantic import SecretStr

    app = harness.app(internal_token=SecretStr("s3cret"))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as client,
    ):
        assert (await client.post("/v1/affinity", json=body(PAPERS, CANDIDATES))).status_code == 401
        ok = await client.post(
            "/v1/affinity",
            json=body(PAPERS, CANDIDATES),
            headers={"X-Internal-Token": "s3cret"},
        )
        assert ok.status_code == 200
        assert (await client.get("/v1/index/status")).status_code == 401


async def test_readiness(harness: MatcherHarness) -> None:
    app = harness.app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as c:
        not_started = await c.get("/readyz")
        assert not_started.status_code == 503
        assert not_started.json()["components"]["model"] == "loading"
        async with app.router.lifespan_context(app):
            ready = await c.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["components"] == {"database": "ok", "model": "ok", "index": "ok"}


def test_aggregate_top_k_averages_what_exists() -> None:
    assert aggregate_top_k([0.9, 0.1, 0.5, 0.7], top_k=3) == pytest.approx(0.7)
    assert aggregate_top_k([0.6], top_k=3) == pytest.approx(0.6)  # not padded with zeros
    assert aggregate_top_k([0.6, 0.2], top_k=3) == pytest.approx(0.4)
    assert aggregate_top_k([], top_k=3) == 0.0


def test_relevance_matrix_matches_citizen_relevance_with_level_weights() -> None:
    rng = np.random.default_rng(0)
    items = rng.standard_normal((5, 8)).astype(np.float32)
    queries = rng.standard_normal((4, 8)).astype(np.float32)
    levels = ["can_do", "want_to_learn", "can_explain", "can_connect", "can_do"]
    config = MatchingConfig(top_k=2)
    evidence = [
        EvidenceItem(i, "c", "skill", str(i), "t", {"level": level})
        for i, level in enumerate(levels)
    ]
    weights = np.array([config.level_weights[level] for level in levels], dtype=np.float32)
    matrix = relevance_matrix(items, queries, config=config, item_weights=weights)
    for q in range(4):
        hits = [Hit(item, float(items[item.item_id] @ queries[q])) for item in evidence]
        assert matrix[q] == pytest.approx(citizen_relevance(hits, config=config), abs=1e-5)


def test_level_weights_order_and_validation() -> None:
    weights = MatchingConfig().level_weights
    assert weights["want_to_learn"] == min(weights.values())
    assert weights["can_do"] == max(weights.values())
    with pytest.raises(ValueError, match="unknown skill levels"):
        MatchingConfig(level_weights={"guru": 2.0})
