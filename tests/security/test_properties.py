"""Property tests (hypothesis) over HTTP: keyset pagination under concurrent inserts,
idempotent call creation under a burst of concurrent retries, and the invariants of ranking.

Pagination and idempotency go through the session's gateway (real profiles and matcher apps).
Ranking uses a matcher of its own (its own database, the change feed off) served on loopback:
each example applies a small random population through the matcher's apply path (the entry
point the change feed uses), posts a call and routes it twice with one seed, then erases the
population again so examples do not see each other's citizens.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convene_common.embedded_pg import EmbeddedPostgres, free_port
from convene_matcher.citizens.schemas import MatchSnapshot
from convene_matcher.config import MatcherSettings
from convene_matcher.main import create_app as create_matcher_app
from convene_matcher.routing.dependencies import DEVELOPMENT_REF_SECRET
from convene_matcher.routing.refs import candidate_ref
from convene_matcher.routing.repository import record_invitation
from convene_matcher.scoring import MatchingConfig
from tests.conftest import load_served_model
from tests.matcher.routing.citizens import erase, load, snapshot
from tests.security.harness import Suite

T = TypeVar("T")

# Bounded so the whole module runs in well under a minute on a shared 2-core machine.
FEW = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# -- keyset pagination while rows are inserted ---------------------------------------------
def _walk(
    client: httpx.Client, path: str, headers: dict[str, str], *, limit: int, pause: float = 0
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(10_000):  # bounded: a cursor that never ends is a failure below
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        response = client.get(path, headers=headers, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
        time.sleep(pause)
    raise AssertionError(f"{path}: pagination did not end")


def _insert_concurrently(
    suite: Suite, path: str, headers: dict[str, str], bodies: list[dict[str, Any]]
) -> tuple[threading.Thread, list[str]]:
    created: list[str] = []

    def insert() -> None:
        with httpx.Client(base_url=suite.url, timeout=30) as own:
            for body in bodies:
                response = own.post(path, headers=headers, json=body)
                assert response.status_code == 201, response.text
                created.append(response.json()["id"])
                time.sleep(0.002)

    thread = threading.Thread(target=insert, name="concurrent-inserts")
    thread.start()
    return thread, created


def _check_walk(
    seen: list[dict[str, Any]], *, before: list[str], created: list[str], newest_first: bool
) -> None:
    ids = [item["id"] for item in seen]
    assert len(ids) == len(set(ids)), "a row was returned twice"
    assert set(before) <= set(ids), f"rows present before the walk were skipped: {before}"
    assert set(ids) <= set(before) | set(created), "a row that was never inserted appeared"
    keys = [(item["created_at"], item["id"]) for item in seen]
    keys = [(datetime.fromisoformat(at), uuid.UUID(i)) for at, i in keys]
    assert keys == sorted(keys, reverse=newest_first), "pages are not in keyset order"


@FEW
@given(limit=st.integers(min_value=1, max_value=6), inserts=st.integers(min_value=0, max_value=8))
def test_admin_organisation_pages_have_no_duplicates_or_gaps_during_inserts(
    suite: Suite, limit: int, inserts: int
) -> None:
    path, admin = "/v1/admin/organisations", suite.admin_headers
    suite.organisation()  # at least one row
    before = [item["id"] for item in _walk(suite.client, path, admin, limit=100)]
    bodies = [
        {"name": f"Parish {uuid.uuid4().hex[:10]}", "kind": "council"} for _ in range(inserts)
    ]
    thread, created = _insert_concurrently(suite, path, admin, bodies)
    try:
        seen = _walk(suite.client, path, admin, limit=max(limit, len(before) // 8), pause=0.003)
    finally:
        thread.join(60)
    assert len(created) == inserts
    _check_walk(seen, before=before, created=created, newest_first=False)
    after = {item["id"] for item in _walk(suite.client, path, admin, limit=100)}
    assert after == set(before) | set(created)


def _call_body(title: str, *, skills: list[str] | None = None) -> dict[str, Any]:
    return {
        "title": title,
        "description": "Property test call.",
        "skills": [{"label": label} for label in skills or ["Urban planning"]],
        "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "panel_size": 3,
    }


@FEW
@given(
    existing=st.integers(min_value=0, max_value=7),
    limit=st.integers(min_value=1, max_value=4),
    inserts=st.integers(min_value=0, max_value=6),
)
def test_call_pages_have_no_duplicates_or_gaps_during_inserts(
    suite: Suite, existing: int, limit: int, inserts: int
) -> None:
    assert suite.with_matcher, "the gateway runs without the matcher: calls cannot be tested"
    _, key = suite.organisation()
    for number in range(existing):
        response = suite.client.post("/v1/calls", headers=key, json=_call_body(f"Old {number}"))
        assert response.status_code == 201, response.text
    before = [item["id"] for item in _walk(suite.client, "/v1/calls", key, limit=100)]
    assert len(before) == existing
    bodies = [_call_body(f"New {number}") for number in range(inserts)]
    thread, created = _insert_concurrently(suite, "/v1/calls", key, bodies)
    try:
        seen = _walk(suite.client, "/v1/calls", key, limit=limit, pause=0.003)
    finally:
        thread.join(60)
    assert len(created) == inserts
    _check_walk(seen, before=before, created=created, newest_first=True)
    after = {item["id"] for item in _walk(suite.client, "/v1/calls", key, limit=100)}
    assert after == set(before) | set(created)


# -- one Idempotency-Key, 20 concurrent POSTs -----------------------------------------------
CONCURRENT_POSTS = 20


async def _post_concurrently(
    url: str, headers: dict[str, str], body: dict[str, Any]
) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=CONCURRENT_POSTS)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        return list(
            await asyncio.gather(
                *(
                    client.post("/v1/calls", headers=headers, json=body)
                    for _ in range(CONCURRENT_POSTS)
                )
            )
        )


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    key=st.text(
        alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=128
    ),
    title=st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
        min_size=1,
        max_size=60,
    ),
)
def test_concurrent_posts_with_one_idempotency_key_create_one_call(
    suite: Suite, key: str, title: str
) -> None:
    assert suite.with_matcher, "the gateway runs without the matcher: calls cannot be tested"
    _, api_key = suite.organisation()
    headers = {**api_key, "Idempotency-Key": key}
    responses = asyncio.run(_post_concurrently(suite.url, headers, _call_body(title)))
    statuses = {response.status_code for response in responses}
    assert statuses == {201}, [r.text for r in responses if r.status_code != 201][:3]
    bodies = {response.content for response in responses}
    assert len(bodies) == 1, "the concurrent replays got different answers"
    listed = _walk(suite.client, "/v1/calls", api_key, limit=100)
    assert [item["id"] for item in listed] == [responses[0].json()["id"]]


# -- ranking ------------------------------------------------------------------------------
BODY = uuid.UUID("00000000-0000-4000-8000-0000000070b5")
BODY_NAME = "Property City Council"
RIVAL = "Metro Cabs Ltd"
SKILLS = [
    "Urban planning",
    "Traffic engineering",
    "Cycling infrastructure design",
    "Driving a taxi in the city",
    "Air quality monitoring",
    "Teaching children",
    "Social care",
    "Sourdough baking",
]
ROLES = ["cyclist", "cab-driver", "carer"]
# What keeps a citizen out of every ranking, and how to make one so.
EXCLUDED = ("erased", "no_consent", "capped", "conflict", "body_staff")


@st.composite
def citizens(draw: st.DrawFn) -> tuple[MatchSnapshot, str]:
    status = draw(st.sampled_from(("eligible", "eligible", *EXCLUDED)))
    skills = draw(st.lists(st.sampled_from(SKILLS), min_size=1, max_size=3, unique=True))
    levels = st.sampled_from(("want_to_learn", "can_explain", "can_connect", "can_do"))
    affiliations: list[tuple[str, str]] = []
    if status == "conflict":
        affiliations = [(RIVAL, draw(st.sampled_from(("employer", "commercial_interest"))))]
    elif status == "body_staff":
        affiliations = [(BODY_NAME, "employer")]
    person = snapshot(
        skills=[(label, draw(levels)) for label in skills],
        roles=draw(st.lists(st.sampled_from(ROLES), max_size=2, unique=True)),
        badges=[(f"{skills[0]} badge", draw(st.booleans()))] if draw(st.booleans()) else [],
        affiliations=affiliations,
        consent=status != "no_consent",
        max_per_month=draw(st.integers(min_value=1, max_value=2)) if status == "capped" else None,
        rating=draw(st.none() | st.floats(min_value=1, max_value=5)),
    )
    return person, status


class ServedMatcher:
    """A matcher app with its own database on a loop thread, served by uvicorn on loopback."""

    def __init__(self, cluster: EmbeddedPostgres, template: str, index_dir: Path) -> None:
        self.cluster, self.template, self.index_dir = cluster, template, index_dir
        self.database = f"prop_{uuid.uuid4().hex[:16]}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.loop = asyncio.new_event_loop()
        self.app: FastAPI | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="property-matcher", daemon=True)

    def start(self) -> FastAPI:
        self._thread.start()
        self._ready.wait(180)
        if self._error is not None:
            raise RuntimeError("the matcher did not start") from self._error
        assert self.app is not None, "the matcher did not start in time"
        return self.app

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(60)

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
        finally:
            self.loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        await self.cluster.create_database_from_template(self.database, self.template)
        try:
            settings = MatcherSettings(
                environment="test",
                database_url=self.cluster.dsn(self.database, role="convene_matcher"),
                database_pool_max=4,
                index_dir=self.index_dir,
                profiles_url="http://profiles.invalid",
                feed_enabled=False,
                feed_wait_seconds=0,
            )
            model = load_served_model(threads=1)
            app = create_matcher_app(settings, embedding_model=model)
            async with app.router.lifespan_context(app):
                server = uvicorn.Server(
                    uvicorn.Config(
                        app, host="127.0.0.1", port=self.port, lifespan="off", log_config=None
                    )
                )
                serving = asyncio.create_task(server.serve())
                while not server.started:
                    if serving.done():
                        serving.result()
                    await asyncio.sleep(0.02)
                self.app = app
                self._ready.set()
                await self._stop.wait()
                server.should_exit = True
                await serving
        finally:
            await self.cluster.drop_database(self.database)


@pytest.fixture(scope="module")
def served_matcher(
    pg_cluster: EmbeddedPostgres, template_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedMatcher]:
    served = ServedMatcher(pg_cluster, template_database, tmp_path_factory.mktemp("prop-index"))
    served.start()
    try:
        yield served
    finally:
        served.stop()


async def _cap(app: FastAPI, person: MatchSnapshot) -> None:
    cap = person.availability.max_invitations_per_month
    assert cap is not None
    async with app.state.pool.acquire() as connection:
        for _ in range(cap):
            await record_invitation(
                connection,
                citizen_id=person.citizen_id,
                public_body_id=uuid.uuid4(),
                call_id=None,
                invited_at=datetime.now(UTC),
            )


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    population=st.lists(citizens(), min_size=1, max_size=10),
    wanted=st.lists(st.sampled_from(SKILLS), min_size=1, max_size=2, unique=True),
    panel_size=st.integers(min_value=1, max_value=6),
    quota=st.sampled_from(ROLES),
    seed=st.integers(min_value=0, max_value=2**63 - 1),
)
def test_ranking_is_deterministic_sorted_bounded_and_excludes_the_ineligible(
    served_matcher: ServedMatcher,
    population: list[tuple[MatchSnapshot, str]],
    wanted: list[str],
    panel_size: int,
    quota: str,
    seed: int,
) -> None:
    app = served_matcher.app
    assert app is not None
    people = [person for person, _ in population]
    served_matcher.run(load(app, *people))
    try:
        for person, status in population:
            if status == "erased":
                served_matcher.run(erase(app, person.citizen_id))
            elif status == "capped":
                served_matcher.run(_cap(app, person))
        live_roles = {
            role.role
            for person, status in population
            if status != "erased"
            for role in person.roles
        }
        call: dict[str, Any] = {
            **_call_body("Property call", skills=wanted),
            "public_body_id": str(BODY),
            "public_body_name": BODY_NAME,
            "panel_size": panel_size,
            "conflicts": [RIVAL],
            "languages": ["en"],
        }
        if quota in live_roles:
            call["perspectives"] = [{"role": quota, "min": 1, "max": panel_size}]
        with httpx.Client(base_url=served_matcher.url, timeout=60) as client:
            created = client.post("/v1/calls", json=call)
            assert created.status_code == 201, created.text
            call_id = created.json()["id"]
            results = []
            for _ in range(2):
                routed = client.post(
                    f"/v1/calls/{call_id}/match",
                    params={"public_body_id": str(BODY)},
                    json={"seed": seed},
                )
                assert routed.status_code == 200, routed.text
                results.append(routed.json())
        first, second = results
        assert first == second, "the same seed ranked differently"
        candidates, panel = first["candidates"], first["panel"]
        scores = [candidate["score"] for candidate in candidates]
        assert scores == sorted(scores, reverse=True), "candidates are not sorted by score"
        assert len(panel) <= panel_size
        assert len(candidates) <= MatchingConfig().shortlist_size + panel_size
        shown = {candidate["ref"] for candidate in candidates}
        assert {member["ref"] for member in panel} <= shown
        refs = {
            candidate_ref(
                secret=DEVELOPMENT_REF_SECRET,
                call_id=uuid.UUID(call_id),
                citizen_id=person.citizen_id,
            ): status
            for person, status in population
        }
        excluded = {ref: status for ref, status in refs.items() if status in EXCLUDED}
        leaked = {excluded[ref] for ref in shown if ref in excluded}
        assert not leaked, f"ineligible citizens ranked: {leaked}"
        assert shown <= set(refs), "a citizen of another example was ranked"
    finally:
        for person, status in population:
            if status != "erased":
                served_matcher.run(erase(app, person.citizen_id))
