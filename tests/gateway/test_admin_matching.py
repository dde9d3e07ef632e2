"""Admin matching configurations and offline evaluations through the gateway, with the real
matcher and profiles apps in-process (a real PostgreSQL, the real model)."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from convene_matcher.config import MatcherSettings
from scripts.demo.history import generate_history
from tests.gateway.conftest import CallsGateway

SALFORD = (53.4875, -2.2901)
LONDON = (51.5072, -0.1276)


async def seed_population(gw: CallsGateway) -> None:
    people: list[dict[str, Any]] = [
        {"skills": ["urban planning", "street design"], "roles": ["urban-planner"]},
        {"skills": ["urban planning"], "roles": ["urban-planner"], "at": LONDON},
        {"skills": ["transport engineering", "traffic signal design"], "at": SALFORD},
        {"skills": ["transport engineering"], "at": LONDON},
        {"skills": ["commuting by bicycle"], "roles": ["cyclist"]},
        {"skills": ["cycling in city traffic"], "roles": ["cyclist"], "at": LONDON},
        {"skills": ["bike maintenance"], "roles": ["cyclist"], "at": SALFORD},
        {"skills": ["driving a taxi in the city"], "roles": ["cab-driver"]},
        {"skills": ["driving a taxi"], "roles": ["cab-driver"], "at": LONDON},
        {"skills": ["road safety campaigning"], "roles": ["wheelchair-user"]},
        {"skills": ["caring for a disabled relative"], "roles": ["carer"]},
        {"skills": ["sourdough baking"]},
    ]
    for person in people:
        await gw.seed_citizen(**person)
    await gw.sync()


async def bike_lane_call(gw: CallsGateway) -> tuple[str, str, dict[str, str]]:
    body_id, key = await gw.public_body(name="Manchester City Council")
    created = await gw.client.post(
        "/v1/calls",
        headers=key,
        json={
            "title": "Protected bike lanes on Oxford Road",
            "description": "Segregated cycle lanes and junction changes on Oxford Road.",
            "skills": [{"label": "urban planning"}, {"label": "transport engineering"}],
            "perspectives": [{"role": "cyclist", "min": 1, "max": 3}],
            "place": {"lat": 53.4808, "lon": -2.2426, "radius_km": 400},
            "deadline": (datetime.now(UTC) + timedelta(days=20)).isoformat(),
            "panel_size": 4,
        },
    )
    assert created.status_code == 201, created.text
    return created.json()["id"], body_id, key


async def wait_job(gw: CallsGateway, job_id: str, *, timeout: float = 240) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await gw.client.get(f"/v1/admin/evaluations/{job_id}", headers=gw.admin)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        assert 0 <= job["progress_percent"] <= 100
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        assert asyncio.get_running_loop().time() < deadline, job
        await asyncio.sleep(0.2)


def in_unit(value: Any) -> bool:
    return isinstance(value, float | int) and math.isfinite(value) and 0 <= value <= 1


async def test_create_preview_evaluate_activate_and_roll_back(calls_gateway: CallsGateway) -> None:
    gw = calls_gateway
    await seed_population(gw)
    call_id, _, key = await bike_lane_call(gw)

    # The defaults are configuration 1, active.
    active = await gw.client.get("/v1/admin/matching-configs/active", headers=gw.admin)
    assert active.status_code == 200, active.text
    default = active.json()
    assert default["id"] == 1
    assert default["active"] is True
    assert set(default) == {"id", "settings", "note", "created_at", "created_by", "active"}

    # The active settings with lived experience weighted more (and local voices): a new,
    # inactive configuration 2.
    kind_weights = {**default["settings"]["kind_weights"], "role": 1.5}
    settings = {
        **default["settings"],
        "kind_weights": kind_weights,
        "locality_weight": 1.5,
        "similarity_weight": 0.3,
    }
    created = await gw.client.post(
        "/v1/admin/matching-configs",
        headers=gw.admin,
        json={"settings": settings, "note": "lived experience and local voices weigh more"},
    )
    assert created.status_code == 201, created.text
    config = created.json()
    assert config["id"] == 2
    assert config["active"] is False
    assert config["settings"]["locality_weight"] == 1.5
    assert config["settings"]["kind_weights"]["role"] == 1.5
    assert config["created_by"].startswith("admin:")
    listed = await gw.client.get("/v1/admin/matching-configs", headers=gw.admin)
    assert [c["id"] for c in listed.json()["items"]] == [2, 1]

    # Preview on the bike-lane call: the two panels side by side, what changed and why.
    preview = await gw.client.post(
        "/v1/admin/matching-configs/2/preview", headers=gw.admin, json={"call_id": call_id}
    )
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    assert shown["config_id"] == 2
    assert shown["active_config_id"] == 1
    assert set(shown["settings_changed"]) == {
        "kind_weights",
        "locality_weight",
        "similarity_weight",
    }
    assert len(shown["panel"]["members"]) == 4
    assert len(shown["active_panel"]["members"]) == 4
    assert shown["quotas"][0]["role"] == "cyclist"
    assert in_unit(shown["panel"]["quota_coverage"])
    joined = {p["ref"] for p in shown["joined"]}
    left = {p["ref"] for p in shown["left"]}
    assert joined == set(shown["panel"]["members"]) - set(shown["active_panel"]["members"])
    assert left == set(shown["active_panel"]["members"]) - set(shown["panel"]["members"])
    assert joined, "weighting locality this much changes who sits on the panel"
    assert all(p["why"] for p in shown["joined"] + shown["left"])
    assert any(abs(s["parts"]["locality"]) > 0 for s in shown["score_shifts"])
    # Preview stores nothing: the call still has no match.
    async with gw.matcher_app.state.pool.acquire() as connection:
        assert await connection.fetchval("SELECT count(*) FROM call_match") == 0

    # Simulated history from a hidden ground truth, then a history evaluation vs the active.
    counts = await generate_history(
        pool=gw.matcher_app.state.pool,
        matcher=httpx.AsyncClient(
            transport=httpx.ASGITransport(app=gw.matcher_app),
            base_url="http://matcher.test",
            headers={"X-Internal-Token": "internal-token-for-tests-0123456789"},
        ),
        profiles=gw.matcher_app.state.matcher.profiles,
        calls=4,
        seed=3,
    )
    assert counts["calls"] == 4
    assert counts["invited"] > 0
    started = await gw.client.post(
        "/v1/admin/evaluations",
        headers=gw.admin,
        json={"config_id": 2, "kind": "history", "compare_with_active": True},
    )
    assert started.status_code == 202, started.text
    assert started.json()["status"] in ("queued", "running")
    job = await wait_job(gw, started.json()["id"])
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert 1 <= result["calls"] <= 4  # calls with at least one usable label
    for figures in (result["config"], result["active"]):
        for name in ("quota_coverage", "top5_share", "gini", "new_voices_rate"):
            assert in_unit(figures[name]), (name, figures)
        for name in ("ndcg_at_10", "acceptance_rate_at_10"):
            assert figures[name] is None or in_unit(figures[name]), (name, figures)
        assert figures["seconds"] > 0
    assert result["config"]["config_id"] == 2
    assert result["active"]["config_id"] == 1
    assert set(result["delta"]) >= {"ndcg_at_10", "gini"}

    # Activate: routing now uses configuration 2 (its panel is the previewed one).
    activated = await gw.client.post("/v1/admin/matching-configs/2/activate", headers=gw.admin)
    assert activated.status_code == 200, activated.text
    assert activated.json()["active"] is True
    active = await gw.client.get("/v1/admin/matching-configs/active", headers=gw.admin)
    assert active.json()["id"] == 2
    # (The history above recorded invitations, so exposure damping moved scores: preview again.)
    now_shown = (
        await gw.client.post(
            "/v1/admin/matching-configs/2/preview", headers=gw.admin, json={"call_id": call_id}
        )
    ).json()
    assert now_shown["settings_changed"] == {}
    assert now_shown["panel"]["members"] == now_shown["active_panel"]["members"]
    matched = await gw.client.post(f"/v1/calls/{call_id}/match", headers=key, json={})
    assert matched.status_code == 200, matched.text
    assert [m["ref"] for m in matched.json()["panel"]] == now_shown["panel"]["members"]

    # Roll back; every activation is recorded with who, when, from and to.
    rolled = await gw.client.post("/v1/admin/matching-configs/rollback", headers=gw.admin)
    assert rolled.status_code == 200, rolled.text
    assert rolled.json()["id"] == 1
    assert rolled.json()["active"] is True
    history = await gw.client.get("/v1/admin/matching-configs/activations", headers=gw.admin)
    assert history.status_code == 200, history.text
    rows = history.json()["items"]
    assert [(r["kind"], r["from_config_id"], r["to_config_id"]) for r in rows] == [
        ("rollback", 2, 1),
        ("activate", 1, 2),
        ("initial", None, 1),
    ]
    assert rows[0]["activated_by"].startswith("admin:")
    assert rows[0]["activated_at"] >= rows[1]["activated_at"]
    # Activating an earlier id is a rollback to it, also recorded.
    again = await gw.client.post("/v1/admin/matching-configs/2/activate", headers=gw.admin)
    assert again.json()["id"] == 2
    back = await gw.client.post("/v1/admin/matching-configs/1/activate", headers=gw.admin)
    assert back.json()["active"] is True
    rows = (await gw.client.get("/v1/admin/matching-configs/activations", headers=gw.admin)).json()[
        "items"
    ]
    assert (rows[0]["from_config_id"], rows[0]["to_config_id"]) == (2, 1)


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"similarity_wieght": 1.0}, "settings.similarity_wieght"),
        ({"locality_weight": -0.5}, "settings.locality_weight"),
        ({"level_weights": {"can_do": -1.0}}, "settings.level_weights.can_do"),
        ({"kind_weights": {"role": -1.0}}, "settings.kind_weights.role"),
        ({"kind_weights": {"hobby": 1.0}}, "settings.kind_weights.hobby.[key]"),
        ({"candidate_pool_size": 1_000_000}, "settings.candidate_pool_size"),
        ({"role_rescore_max": 10_000_000}, "settings.role_rescore_max"),
        ({"max_affiliation_share": 1.5}, "settings.max_affiliation_share"),
        ({"top_k": "three"}, "settings.top_k"),
    ],
)
async def test_bad_configurations_get_clear_4xx_naming_the_key(
    calls_gateway: CallsGateway, settings: dict[str, Any], key: str
) -> None:
    gw = calls_gateway
    response = await gw.client.post(
        "/v1/admin/matching-configs", headers=gw.admin, json={"settings": settings}
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert key in problem["detail"]
    assert any(error["loc"] == key for error in problem["errors"])
    listed = await gw.client.get("/v1/admin/matching-configs", headers=gw.admin)
    assert [c["id"] for c in listed.json()["items"]] == [1]


@pytest.mark.skipif(
    not MatcherSettings().goldstandard_dir.is_dir(),
    reason="the outside benchmark (../shared/benchmarks/goldstandard) is not beside this clone",
)
async def test_goldstandard_evaluation_of_a_configuration(calls_gateway: CallsGateway) -> None:
    """The gold standard in-process, on a small subset (CI has ../shared beside the clone)."""
    gw = calls_gateway
    started = await gw.client.post(
        "/v1/admin/evaluations",
        headers=gw.admin,
        json={"config_id": 1, "kind": "goldstandard", "limit": 3, "variants": [1]},
    )
    assert started.status_code == 202, started.text
    job = await wait_job(gw, started.json()["id"])
    assert job["status"] == "succeeded", job
    gold = job["result"]
    assert gold["researchers"] == 3
    assert gold["variants"] == ["d_20_1"]
    for figures in (gold["config"], gold["active"]):
        assert in_unit(figures["loss"]), figures
        assert figures["easy"] is None or in_unit(figures["easy"])
        assert figures["hard"] is None or in_unit(figures["hard"])


async def test_request_shapes_auth_and_missing_things(calls_gateway: CallsGateway) -> None:
    gw = calls_gateway
    unknown_field = await gw.client.post(
        "/v1/admin/matching-configs", headers=gw.admin, json={"settings": {}, "id": 7}
    )
    assert unknown_field.status_code == 422
    assert (await gw.client.get("/v1/admin/matching-configs")).status_code == 401
    _, citizen = await gw.citizen()
    forbidden = await gw.client.get("/v1/admin/matching-configs/active", headers=citizen)
    assert forbidden.status_code == 403
    missing = await gw.client.post("/v1/admin/matching-configs/99/activate", headers=gw.admin)
    assert missing.status_code == 404
    # The configuration exists; the call named in the body does not: an unprocessable body.
    unknown_call = await gw.client.post(
        "/v1/admin/matching-configs/1/preview",
        headers=gw.admin,
        json={"call_id": "d1183f54-45a3-5b09-bc23-cee260178681"},
    )
    assert unknown_call.status_code == 422, unknown_call.text
    assert unknown_call.json()["type"].endswith("/unknown-call")
    nothing = await gw.client.post("/v1/admin/matching-configs/rollback", headers=gw.admin)
    assert nothing.status_code == 409
    assert "nothing to roll back" in nothing.json()["detail"]
    no_config = await gw.client.post(
        "/v1/admin/evaluations", headers=gw.admin, json={"config_id": 9, "kind": "history"}
    )
    assert no_config.status_code == 404
    # Configuration ids are 32-bit: a larger one is a 422, not a database error (fuzzing find).
    huge = await gw.client.post(
        "/v1/admin/evaluations",
        headers=gw.admin,
        json={"config_id": 502411217743466295459840, "kind": "history"},
    )
    assert huge.status_code == 422, huge.text
    # No labelled history yet: the job fails with a clear message.
    started = await gw.client.post(
        "/v1/admin/evaluations", headers=gw.admin, json={"config_id": 1, "kind": "history"}
    )
    assert started.status_code == 202, started.text
    job = await wait_job(gw, started.json()["id"])
    assert job["status"] == "failed"
    assert "No labelled history" in job["error"]


async def test_goldstandard_folder_absent_fails_clearly_and_jobs_cancel(
    calls_gateway: CallsGateway, tmp_path: Any
) -> None:
    gw = calls_gateway
    state = gw.matcher_app.state
    real = state.settings
    state.settings = real.model_copy(update={"goldstandard_dir": tmp_path / "absent"})
    try:
        started = await gw.client.post(
            "/v1/admin/evaluations",
            headers=gw.admin,
            json={"config_id": 1, "kind": "goldstandard", "compare_with_active": False},
        )
        assert started.status_code == 202, started.text
        job = await wait_job(gw, started.json()["id"])
        assert job["status"] == "failed"
        assert "absent" in job["error"]
        assert "CONVENE_MATCHER_GOLDSTANDARD_DIR" in job["error"]
    finally:
        state.settings = real

    # A full gold-standard run, cancelled: it stops, stays cancelled, the API kept answering.
    started = await gw.client.post(
        "/v1/admin/evaluations", headers=gw.admin, json={"config_id": 1, "kind": "goldstandard"}
    )
    assert started.status_code == 202
    job_id = started.json()["id"]
    cancelled = await gw.client.post(f"/v1/admin/evaluations/{job_id}/cancel", headers=gw.admin)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    job = await wait_job(gw, job_id)
    assert job["status"] == "cancelled"
    again = await gw.client.post(f"/v1/admin/evaluations/{job_id}/cancel", headers=gw.admin)
    assert again.status_code == 409
