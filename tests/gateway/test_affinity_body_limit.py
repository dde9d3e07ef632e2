"""POST /v1/admin/affinity has a body limit of its own (1 MiB; every other route 64 KiB).

A real researcher's profile (20 titles and abstracts, as the gold-standard harness sends
them, with their rated candidates) is larger than 64 KiB: it must go through the gateway.
"""

from __future__ import annotations

import importlib.util
import json
import math
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from convene_matcher.config import MatcherSettings
from tests.gateway.conftest import CallsGateway, Gateway

GLOBAL_LIMIT = 64 * 1024
AFFINITY_LIMIT = 1024 * 1024


def _goldstandard_payload(directory: Path) -> dict[str, Any] | None:
    """The harness's own request for the researcher with the largest profile (variant 1)."""
    script = directory / "evaluate.py"
    if not script.is_file():
        return None
    spec = importlib.util.spec_from_file_location("convene_goldstandard_harness", script)
    assert spec is not None
    assert spec.loader is not None
    harness = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(harness)
    refs = harness.load_ratings(str(directory / "evaluations.csv"))
    variant = harness.load_variant(str(directory / "evaluation_datasets" / "d_20_1"))
    payloads = [harness._contract_payload(variant, refs, r)[0] for r in refs]
    largest: dict[str, Any] = max(payloads, key=lambda p: len(json.dumps(p)))
    return largest


def _generated_payload(*, papers: int = 20, candidates: int = 10) -> dict[str, Any]:
    """Twenty ~250-word abstracts (title, abstract and text, as the harness sends them)."""
    rng = random.Random(20)
    words = (
        "flood risk housing transport cycling planning survey model data analysis health "
        "community policy evaluation network routing citizens council budget climate air "
        "quality school street safety junction signal bus accessibility carers social care "
        "youth employment procurement finance statistics mapping consultation evidence"
    ).split()

    def paper(prefix: str, number: int) -> dict[str, Any]:
        title = " ".join(rng.choices(words, k=10)).capitalize()
        abstract = " ".join(rng.choices(words, k=250)).capitalize() + "."
        return {
            "id": f"{prefix}{number}",
            "title": title,
            "abstract": abstract,
            "text": f"{title}. {abstract}",
        }

    return {
        "researcher": {"id": "r1", "papers": [paper("p", n) for n in range(papers)]},
        "candidates": [paper("c", n) for n in range(candidates)],
    }


def real_size_profile() -> dict[str, Any]:
    return _goldstandard_payload(MatcherSettings().goldstandard_dir) or _generated_payload()


async def test_a_real_researchers_profile_is_scored_through_the_gateway(
    calls_gateway: CallsGateway,
) -> None:
    payload = real_size_profile()
    body = json.dumps(payload).encode()
    assert len(payload["researcher"]["papers"]) == 20
    assert GLOBAL_LIMIT < len(body) < AFFINITY_LIMIT  # what the 64 KiB limit refused
    response = await calls_gateway.client.post(
        "/v1/admin/affinity",
        headers={**calls_gateway.admin, "content-type": "application/json"},
        content=body,
    )
    assert response.status_code == 200, response.text
    scores = response.json()["scores"]
    assert len(scores) == len(payload["candidates"])
    assert all(math.isfinite(score) for score in scores)


def _padded(size: int) -> bytes:
    """A JSON affinity body of exactly ``size`` bytes."""
    base = _generated_payload(papers=1, candidates=1)
    base["candidates"][0]["year"] = ""  # ignored by the route; padding only
    empty = len(json.dumps(base).encode())
    base["candidates"][0]["year"] = "x" * (size - empty)
    body = json.dumps(base).encode()
    assert len(body) == size
    return body


def assert_too_large(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/payload-too-large")
    assert str(limit) in problem["detail"]


async def test_a_body_above_the_routes_own_limit_is_413(
    gateway: Gateway, admin_headers: dict[str, str]
) -> None:
    headers = {**admin_headers, "content-type": "application/json"}
    response = await gateway.client.post(
        "/v1/admin/affinity", headers=headers, content=_padded(AFFINITY_LIMIT + 1)
    )
    assert_too_large(response, AFFINITY_LIMIT)

    # Without a Content-Length (chunked), counted as it arrives.
    async def chunks() -> AsyncIterator[bytes]:
        body = _padded(AFFINITY_LIMIT + 1)
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    response = await gateway.client.post("/v1/admin/affinity", headers=headers, content=chunks())
    assert_too_large(response, AFFINITY_LIMIT)


async def test_the_larger_limit_is_the_affinity_routes_alone(
    gateway: Gateway, admin_headers: dict[str, str]
) -> None:
    headers = {**admin_headers, "content-type": "application/json"}
    body = _padded(GLOBAL_LIMIT + 1)
    # Another route, and another method on the affinity path, keep 64 KiB.
    assert_too_large(
        await gateway.client.post("/v1/admin/roles", headers=headers, content=body), GLOBAL_LIMIT
    )
    assert_too_large(
        await gateway.client.put("/v1/admin/affinity", headers=headers, content=body),
        GLOBAL_LIMIT,
    )
    # The affinity route reads it (the body passes the limit; the matcher is not running
    # in this fixture, so the answer is the gateway's downstream problem, not a 413).
    response = await gateway.client.post("/v1/admin/affinity", headers=headers, content=body)
    assert response.status_code != 413, response.text


async def test_the_routes_limit_is_documented(gateway: Gateway) -> None:
    schema = (await gateway.client.get("/openapi.json")).json()
    operation = schema["paths"]["/v1/admin/affinity"]["post"]
    assert "1 MiB" in operation["description"]
    assert "1 MiB" in operation["responses"]["413"]["description"]
