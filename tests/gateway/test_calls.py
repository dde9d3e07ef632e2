"""Public bodies' calls through the gateway, over the REAL matcher and profiles apps in-process.

Only the matcher's failure modes (refused, slow, broken, leaking) use httpx.MockTransport.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from convene_gateway.main import create_app
from tests.conftest import FreshDatabase
from tests.gateway.conftest import INTERNAL_TOKEN, CallsGateway, gateway_settings

PROBLEM = "application/problem+json"
SALFORD = (53.4875, -2.2901)
LEEDS = (53.8008, -1.5491)
CALL_KEYS = {
    "id", "public_body_id", "public_body_name", "title", "description", "questions", "skills",
    "perspectives", "place", "languages", "access_offered", "access_not_offered", "hours",
    "deadline", "panel_size", "conflicts", "confidentiality", "status", "created_at",
    "created_by", "updated_at", "cancelled_at", "cancel_reason",
}  # fmt: skip


def bike_lane_call(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Protected bike lanes on Oxford Road",
        "description": (
            "The council is planning segregated cycle lanes and junction changes on Oxford "
            "Road. We want to hear from people who plan streets, engineer traffic, cycle the "
            "route, or drive taxis along it."
        ),
        "questions": ["How should junctions and loading bays work with a protected lane?"],
        "skills": [
            {"label": "urban planning"},
            {"label": "traffic engineering"},
            {"label": "cycling infrastructure design"},
        ],
        "perspectives": [
            {"role": "cyclist", "min": 2, "max": 3},
            {"role": "cab driver", "min": 1, "max": 2},
            {"role": "transport engineer", "min": 1, "max": 2},
        ],
        "place": {"authority_code": "E08000003"},
        "languages": ["en"],
        "hours": 2,
        "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "panel_size": 5,
        "conflicts": ["Metro Cabs Ltd"],
        "confidentiality": "public",
    }
    body.update(overrides)
    return body


def assert_problem(response: httpx.Response, status: int, slug: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == status
    if slug is not None:
        assert problem["type"].endswith(f"/{slug}"), problem


@pytest.fixture
async def civic(calls_gateway: CallsGateway) -> dict[str, str]:
    """A small Manchester population holding the bike-lane call's roles; applied to the matcher."""
    g = calls_gateway
    people = {
        "planner": await g.seed_citizen(skills=["Urban planning", "Street design"]),
        "cyclist1": await g.seed_citizen(
            skills=["Cycling infrastructure design"], roles=["cyclist"]
        ),
        "cyclist2": await g.seed_citizen(skills=["Commuting by bicycle"], roles=["cyclist"]),
        "cyclist3": await g.seed_citizen(
            skills=["Bike maintenance"], roles=["cyclist"], at=SALFORD
        ),
        "cab1": await g.seed_citizen(skills=["Driving in city traffic"], roles=["cab-driver"]),
        "engineer": await g.seed_citizen(
            skills=["Traffic engineering", "Traffic signal design"], roles=["transport engineer"]
        ),
        "leeds_cyclist": await g.seed_citizen(
            skills=["Cycling infrastructure design"],
            roles=["cyclist"],
            at=LEEDS,
            authority_code="E08000035",
        ),
        "baker": await g.seed_citizen(skills=["Sourdough baking"]),
    }
    assert await g.sync() > 0
    return people


async def post_call(
    g: CallsGateway, headers: dict[str, str], body: dict[str, Any] | None = None, **extra: str
) -> dict[str, Any]:
    response = await g.client.post(
        "/v1/calls", headers={**headers, **extra}, json=body or bike_lane_call()
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


# -- authentication and scopes ------------------------------------------------------------
async def test_calls_need_a_public_body_key_with_the_right_scope(
    calls_gateway: CallsGateway, civic: dict[str, str]
) -> None:
    g = calls_gateway
    organisation_id, writer = await g.public_body()
    reader = await g.api_key(organisation_id, scopes=("calls:read",))
    raters = await g.api_key(organisation_id, scopes=("ratings:write",))
    call = await post_call(g, writer)
    routes = [
        ("POST", "/v1/calls", bike_lane_call()),
        ("GET", "/v1/calls", None),
        ("GET", f"/v1/calls/{call['id']}", None),
        ("POST", f"/v1/calls/{call['id']}/match", None),
    ]
    _, citizen = await g.citizen()
    for method, path, body in routes:
        anonymous = await g.client.request(method, path, json=body)
        assert_problem(anonymous, 401, "authentication-required")
        assert anonymous.headers["www-authenticate"].startswith("APIKey")
        bad_key = await g.client.request(
            method, path, json=body, headers={"X-API-Key": "cvk_not-a-real-key"}
        )
        assert_problem(bad_key, 401)
        assert_problem(await g.client.request(method, path, json=body, headers=citizen), 403)
        assert_problem(await g.client.request(method, path, json=body, headers=g.admin), 403)
        assert_problem(
            await g.client.request(method, path, json=body, headers=raters),
            403,
            "insufficient-scope",
        )
    # A read-only key reads but neither posts nor matches (matching records the shortlist).
    assert (await g.client.get(f"/v1/calls/{call['id']}", headers=reader)).status_code == 200
    assert (await g.client.get("/v1/calls", headers=reader)).status_code == 200
    assert_problem(
        await g.client.post("/v1/calls", headers=reader, json=bike_lane_call()),
        403,
        "insufficient-scope",
    )
    assert_problem(
        await g.client.post(f"/v1/calls/{call['id']}/match", headers=reader),
        403,
        "insufficient-scope",
    )


# -- create, read, list -------------------------------------------------------------------
async def test_create_get_and_list_with_keyset_pagination(
    calls_gateway: CallsGateway, civic: dict[str, str]
) -> None:
    g = calls_gateway
    organisation_id, headers = await g.public_body(name="Manchester City Council")
    created = [
        await post_call(g, headers, bike_lane_call(title=f"Call {number}")) for number in range(5)
    ]
    first = created[0]
    assert set(first) == CALL_KEYS
    assert first["access_not_offered"] == []
    assert first["public_body_id"] == organisation_id
    # The name comes from the key's organisation, never from the request.
    assert first["public_body_name"] == "Manchester City Council"
    assert first["perspectives"][0] == {"role": "cyclist", "min": 2, "max": 3}
    assert first["place"]["authority_code"] == "E08000003"

    fetched = await g.client.get(f"/v1/calls/{first['id']}", headers=headers)
    assert fetched.status_code == 200, fetched.text
    assert fetched.json() == first

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = await g.client.get("/v1/calls", headers=headers, params=params)
        assert page.status_code == 200, page.text
        pages += 1
        seen += [item["id"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [call["id"] for call in reversed(created)]  # newest first, no repeats

    assert_problem(
        await g.client.get("/v1/calls", headers=headers, params={"cursor": "not-a-cursor"}), 400
    )
    assert_problem(await g.client.get("/v1/calls", headers=headers, params={"limit": 101}), 422)
    assert_problem(await g.client.get(f"/v1/calls/{uuid.uuid4()}", headers=headers), 404)


async def test_another_bodys_call_is_not_found(
    calls_gateway: CallsGateway, civic: dict[str, str]
) -> None:
    g = calls_gateway
    _, ours = await g.public_body()
    _, theirs = await g.public_body()
    call = await post_call(g, ours)
    assert_problem(await g.client.get(f"/v1/calls/{call['id']}", headers=theirs), 404)
    assert_problem(await g.client.post(f"/v1/calls/{call['id']}/match", headers=theirs), 404)
    listed = await g.client.get("/v1/calls", headers=theirs)
    assert listed.json() == {"items": [], "next_cursor": None}


# -- idempotency --------------------------------------------------------------------------
async def test_twenty_concurrent_posts_with_one_key_make_one_call(
    calls_gateway: CallsGateway, civic: dict[str, str]
) -> None:
    g = calls_gateway
    _, headers = await g.public_body()
    body = bike_lane_call()
    key = {"Idempotency-Key": f"bike-lanes-{uuid.uuid4()}"}
    responses = await asyncio.gather(
        *(g.client.post("/v1/calls", headers={**headers, **key}, json=body) for _ in range(20))
    )
    assert {response.status_code for response in responses} == {201}
    assert len({response.content for response in responses}) == 1
    listed = await g.client.get("/v1/calls", headers=headers)
    assert [item["id"] for item in listed.json()["items"]] == [responses[0].json()["id"]]
    # A later retry is the same call and the same answer.
    retried = await g.client.post("/v1/calls", headers={**headers, **key}, json=body)
    assert (retried.status_code, retried.content) == (201, responses[0].content)
    # The key was forwarded to the matcher, which scoped it to this body.
    forwarded = [
        h.get("idempotency-key")
        for m, p, h in g.seen_by_matcher.requests
        if (m, p) == ("POST", "/v1/calls")
    ]
    assert len(forwarded) == 21
    assert set(forwarded) == {key["Idempotency-Key"]}
    # The same key used by another body is that body's own key.
    _, other = await g.public_body()
    elsewhere = await g.client.post("/v1/calls", headers={**other, **key}, json=body)
    assert elsewhere.status_code == 201
    assert elsewhere.json()["id"] != responses[0].json()["id"]


async def test_idempotency_key_reused_with_another_body_is_422(
    calls_gateway: CallsGateway, civic: dict[str, str]
) -> None:
    g = calls_gateway
    _, headers = await g.public_body()
    key = {"Idempotency-Key": "one-key"}
    await post_call(g, headers, bike_lane_call(), **key)
    reused = await g.client.post(
        "/v1/calls", headers={**headers, **key}, json=bike_lane_call(title="Another call")
    )
    assert_problem(reused, 422, "idempotency-key-reused")


@pytest.mark.parametrize(
    "key",
    [b"", b"x" * 129, "caf\u00e9".encode(), b"tab\there"],
    ids=["empty", "too-long", "non-ascii", "control-character"],
)
async def test_malformed_idempotency_key_is_400_and_never_forwarded(
    calls_gateway: CallsGateway, civic: dict[str, str], key: bytes
) -> None:
    g = calls_gateway
    _, headers = await g.public_body()
    before = len(g.seen_by_matcher.requests)
    response = await g.client.post(
        "/v1/calls",
        headers=[*headers.items(), ("Idempotency-Key", key)],  # type: ignore[list-item]
        json=bike_lane_call(),
    )
    assert_problem(response, 400, "invalid-idempotency-key")
    assert len(g.seen_by_matcher.requests) == before


# -- bad input ----------------------------------------------------------------------------
def _without_text() -> dict[str, Any]:
    return bike_lane_call(title="", description="  ")


BAD_CALLS: list[tuple[str, Callable[[], dict[str, Any]], str]] = [
    ("no-text", _without_text, "title"),
    (
        "min-above-max",
        lambda: bike_lane_call(perspectives=[{"role": "cyclist", "min": 3, "max": 2}]),
        "perspectives.0.min",
    ),
    (
        "quotas-above-panel-size",
        lambda: bike_lane_call(
            panel_size=3,
            perspectives=[{"role": "cyclist", "min": 2}, {"role": "cab driver", "min": 2}],
        ),
        "perspectives",
    ),
    (
        "radius-without-place",
        lambda: bike_lane_call(place={"radius_km": 15}),
        "place.radius_km",
    ),
    ("panel-size-above-500", lambda: bike_lane_call(panel_size=501), "body.panel_size"),
    ("panel-size-zero", lambda: bike_lane_call(panel_size=0), "body.panel_size"),
    ("unknown-field", lambda: bike_lane_call(budget=1000), "body.budget"),
    (
        "deadline-without-zone",
        lambda: bike_lane_call(deadline="2031-01-01T12:00:00"),
        "body.deadline",
    ),
    (
        "deadline-in-the-past",
        lambda: bike_lane_call(deadline="2001-01-01T12:00:00Z"),
        "deadline",
    ),
    ("bad-language", lambda: bike_lane_call(languages=["english"]), "body.languages.0"),
    (
        "bad-authority-code",
        lambda: bike_lane_call(place={"authority_code": "Manchester"}),
        "body.place.authority_code",
    ),
    (
        "too-many-questions",
        lambda: bike_lane_call(questions=["Why?"] * 51),
        "body.questions",
    ),
    ("title-too-long", lambda: bike_lane_call(title="x" * 20_001), "body.title"),
]


@pytest.mark.parametrize(("case", "make", "loc"), BAD_CALLS, ids=[case for case, _, _ in BAD_CALLS])
async def test_bad_calls_are_422_problems_naming_the_field(
    calls_gateway: CallsGateway,
    civic: dict[str, str],
    case: str,
    make: Callable[[], dict[str, Any]],
    loc: str,
) -> None:
    g = calls_gateway
    _, headers = await g.public_body()
    response = await g.client.post("/v1/calls", headers=headers, json=make())
    assert_problem(response, 422, "validation-error")
    locations = [error["loc"] for error in response.json()["errors"]]
    assert any(location.startswith(loc) for location in locations), locations
    assert (await g.client.get("/v1/calls", headers=headers)).json()["items"] == []


# -- matching -----------------------------------------------------------------------------
PERSONAL = ("name", "display_name", "email", "citizen_id", "lat", "lon", "postcode", "place")


def _keys(value: Any) -> set[str]:
    """Every field name in an answer (stats.filtered's keys are filter names, counted)."""
    if isinstance(value, dict):
        nested = {k for key, item in value.items() if key != "filtered" for k in _keys(item)}
        return set(value) | nested
    if isinstance(value, list):
        return {k for item in value for k in _keys(item)}
    return set()


async def test_match_gives_an_explained_pseudonymous_panel_meeting_the_quotas(
    calls_gateway: CallsGateway, civic: dict[str, str]
) -> None:
    g = calls_gateway
    _, headers = await g.public_body(name="Manchester City Council")
    call = await post_call(g, headers)
    response = await g.client.post(f"/v1/calls/{call['id']}/match", headers=headers)
    assert response.status_code == 200, response.text
    result = response.json()
    assert set(result) == {
        "call_id", "candidates", "panel", "unmet", "panel_needs", "stats", "config_id"
    }  # fmt: skip
    assert result["call_id"] == call["id"]
    assert result["config_id"] == 1  # the configuration active from the start
    assert result["unmet"] == []
    assert result["panel_needs"] == []  # nobody seeded here has an access need
    panel = {member["ref"]: member["fills"] for member in result["panel"]}
    assert len(panel) == 5
    fills = [role for roles in panel.values() for role in roles]
    assert fills.count("cyclist") >= 2
    assert fills.count("cab driver") >= 1
    assert fills.count("transport engineer") >= 1
    candidates = {candidate["ref"]: candidate for candidate in result["candidates"]}
    for ref in panel:
        candidate = candidates[ref]  # every panel member is an explained candidate
        assert set(candidate) == {"ref", "score", "evidence", "adjustments", "roles"}
        assert candidate["evidence"], candidate
        assert set(candidate["adjustments"]) == {
            "similarity", "verified_badges", "rating", "track_record", "locality", "exposure",
            "not_my_expertise",
        }  # fmt: skip
    # Nothing that identifies a person: no ids, names, emails or places anywhere.
    assert not _keys(result) & set(PERSONAL)
    assert all(isinstance(count, int) for count in result["stats"]["filtered"].values())
    text = response.text
    for citizen_id in civic.values():
        assert citizen_id not in text
    assert "example.org" not in text
    assert "Person " not in text
    # Leeds is outside the call's authority; the baker has nothing to offer.
    assert len(candidates) <= len(civic) - 1

    seeded = await g.client.post(
        f"/v1/calls/{call['id']}/match", headers=headers, json={"seed": 42}
    )
    assert seeded.status_code == 200, seeded.text
    assert_problem(
        await g.client.post(f"/v1/calls/{call['id']}/match", headers=headers, json={"seed": -1}),
        422,
    )
    assert_problem(
        await g.client.post(f"/v1/calls/{call['id']}/match", headers=headers, json={"top": 3}),
        422,
    )
    # What the body cannot offer reaches the matcher (and only those needs exclude).
    cannot = await post_call(g, headers, bike_lane_call(access_not_offered=["BSL interpreter"]))
    assert cannot["access_not_offered"] == ["BSL interpreter"]
    stored = await g.client.get(f"/v1/calls/{cannot['id']}", headers=headers)
    assert stored.json()["access_not_offered"] == ["BSL interpreter"]


async def test_a_leaking_matcher_cannot_leak_through_the_gateway(
    database: FreshDatabase, calls_gateway: CallsGateway
) -> None:
    """Even if the matcher put personal data into its answer, the declared models drop it."""
    g = calls_gateway
    _, headers = await g.public_body()
    call_id = str(uuid.uuid4())
    leaked = {"name": "Ada Lovelace", "email": "ada@example.org", "citizen_id": str(uuid.uuid4())}
    place = {"lat": 53.48, "lon": -2.24, "postcode": "M1 1AA"}

    def leaky(request: httpx.Request) -> httpx.Response:
        candidate = {
            "ref": "c_abc",
            "score": 0.8,
            "evidence": [{"kind": "skill", "text": "Urban planning", "similarity": 0.7, **leaked}],
            "adjustments": {
                "similarity": 0.7, "verified_badges": 0.1, "rating": 0.0, "locality": 0.0,
                "exposure": 0.0, **place,
            },
            "roles": [],
            "place": place,
            **leaked,
        }  # fmt: skip
        return httpx.Response(
            200,
            json={
                "call_id": call_id,
                "candidates": [candidate],
                "panel": [{"ref": "c_abc", "fills": ["relevance"], **leaked}],
                "unmet": [],
                "stats": {
                    "retrieved": 1, "role_holders": 0, "eligible": 1, "filtered": {},
                    "panel_method": "top_k", "citizen_ids": [leaked["citizen_id"]],
                },
                "debug": leaked,
            },
        )  # fmt: skip

    async with gateway_with_matcher(database, httpx.MockTransport(leaky)) as client:
        response = await client.post(f"/v1/calls/{call_id}/match", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["panel"] == [{"ref": "c_abc", "fills": ["relevance"]}]
    assert not _keys(response.json()) & {*PERSONAL, "citizen_ids", "debug"}
    for value in (*leaked.values(), "M1 1AA", "53.48"):
        assert value not in response.text


# -- propagation and failure modes --------------------------------------------------------
async def test_request_id_and_internal_token_reach_the_matcher(
    calls_gateway: CallsGateway, civic: dict[str, str]
) -> None:
    g = calls_gateway
    _, headers = await g.public_body()
    request_id = f"req-{uuid.uuid4().hex}"
    response = await g.client.post(
        "/v1/calls", headers={**headers, "X-Request-ID": request_id}, json=bike_lane_call()
    )
    assert response.status_code == 201
    assert response.headers["x-request-id"] == request_id
    sent = [h for m, p, h in g.seen_by_matcher.requests if p == "/v1/calls" and m == "POST"]
    assert sent[-1]["x-request-id"] == request_id
    assert sent[-1]["x-internal-token"] == INTERNAL_TOKEN


@asynccontextmanager
async def gateway_with_matcher(
    database: FreshDatabase, transport: httpx.AsyncBaseTransport, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A second gateway over the same database (keys, organisations) and a failing matcher."""
    app = create_app(gateway_settings(database, **overrides), matcher_transport=transport)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield client


class Counting:
    def __init__(self, failure: Callable[[httpx.Request], httpx.Response]) -> None:
        self.calls: list[str] = []
        self._failure = failure

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request.method)
        return self._failure(request)


def refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def time_out(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("read timed out", request=request)


def crash(request: httpx.Request) -> httpx.Response:
    return httpx.Response(500, json={"detail": "secret internals"})


def garbage(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"unexpected": True})


async def test_matcher_unavailable_is_503_quickly_with_retry_after(
    database: FreshDatabase, calls_gateway: CallsGateway
) -> None:
    _, headers = await calls_gateway.public_body()
    handler = Counting(refuse)
    async with gateway_with_matcher(
        database, httpx.MockTransport(handler), downstream_retries=2
    ) as client:
        started = time.monotonic()
        listed = await client.get("/v1/calls", headers=headers)
        posted = await client.post("/v1/calls", headers=headers, json=bike_lane_call())
        matched = await client.post(f"/v1/calls/{uuid.uuid4()}/match", headers=headers)
        # Five refused attempts and 0.3 s of retry backoff: about half a second. The bound
        # is below two waits for the 2 s connect timeout; 2 s itself was once missed at
        # 2.6 s by a quiet clean-clone run (a cold gateway's first requests).
        assert time.monotonic() - started < 4
    for response in (listed, posted, matched):
        assert_problem(response, 503, "downstream-unavailable")
        assert response.headers["retry-after"] == "5"
        assert "matcher" in response.json()["detail"]
    # Only the GET was retried (one try and two retries); POSTs may have reached the matcher.
    assert handler.calls == ["GET", "GET", "GET", "POST", "POST"]


@pytest.mark.parametrize(
    ("failure", "status", "slug"),
    [
        (time_out, 504, "downstream-timeout"),
        (crash, 502, "bad-gateway"),
        (garbage, 502, "bad-gateway"),
    ],
    ids=["timeout", "server-error", "malformed-answer"],
)
async def test_matcher_failures_map_to_problems(
    database: FreshDatabase,
    calls_gateway: CallsGateway,
    failure: Callable[[httpx.Request], httpx.Response],
    status: int,
    slug: str,
) -> None:
    _, headers = await calls_gateway.public_body()
    async with gateway_with_matcher(database, httpx.MockTransport(failure)) as client:
        response = await client.get(f"/v1/calls/{uuid.uuid4()}", headers=headers)
    assert_problem(response, status, slug)
    assert "secret internals" not in response.text
    if status == 504:
        assert response.headers["retry-after"] == "5"


async def test_a_hung_matcher_is_cut_off_by_the_read_timeout(
    database: FreshDatabase, calls_gateway: CallsGateway
) -> None:
    """A real socket that accepts and never answers: matcher_read_timeout_seconds applies."""
    _, headers = await calls_gateway.public_body()

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        app = create_app(
            gateway_settings(
                database, matcher_url=f"http://127.0.0.1:{port}", matcher_read_timeout_seconds=0.3
            )
        )
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://test"
            ) as client,
        ):
            started = time.monotonic()
            response = await client.post(f"/v1/calls/{uuid.uuid4()}/match", headers=headers)
            elapsed = time.monotonic() - started
    finally:
        server.close()
        await server.wait_closed()
    assert_problem(response, 504, "downstream-timeout")
    assert elapsed < 2


# -- admin --------------------------------------------------------------------------------
async def test_admin_affinity_index_status_and_rebuild(
    calls_gateway: CallsGateway, civic: dict[str, str]
) -> None:
    g = calls_gateway
    payload = {
        "researcher": {
            "id": "r1",
            "papers": [
                {"id": "p1", "title": "Segregated cycle lanes", "abstract": "Junction design.",
                 "year": 2021},
            ],
        },
        "candidates": [
            {"id": "c1", "text": "Designing protected bike lanes at junctions"},
            {"id": "c2", "title": "Sourdough", "abstract": "Baking bread at home."},
        ],
    }  # fmt: skip
    scored = await g.client.post("/v1/admin/affinity", headers=g.admin, json=payload)
    assert scored.status_code == 200, scored.text
    scores = scored.json()["scores"]
    assert len(scores) == 2
    assert scores[0] > scores[1]
    again = await g.client.post("/v1/admin/affinity", headers=g.admin, json=payload)
    assert again.json() == scored.json()
    empty = {**payload, "candidates": [{"id": "c3"}]}
    assert_problem(await g.client.post("/v1/admin/affinity", headers=g.admin, json=empty), 400)
    too_many = {**payload, "candidates": [{"id": f"c{i}", "text": "x"} for i in range(201)]}
    assert_problem(await g.client.post("/v1/admin/affinity", headers=g.admin, json=too_many), 422)

    status = await g.client.get("/v1/admin/index/status", headers=g.admin)
    assert status.status_code == 200, status.text
    head = await g.client.get("/v1/admin/changes", headers=g.admin, params={"limit": 1000})
    assert status.json()["last_seq"] == head.json()["last_seq"]
    assert status.json()["citizens"] == len(civic)

    rebuilt = await g.client.post("/v1/admin/index/rebuild", headers=g.admin)
    assert rebuilt.status_code == 200, rebuilt.text
    assert rebuilt.json()["seq"] == status.json()["last_seq"]
    assert rebuilt.json()["items"] == status.json()["items"] - status.json()["tombstones"]

    _, body_key = await g.public_body()
    _, citizen = await g.citizen()
    for headers in ({}, body_key, citizen):
        for method, path in (
            ("POST", "/v1/admin/affinity"),
            ("GET", "/v1/admin/index/status"),
            ("POST", "/v1/admin/index/rebuild"),
        ):
            response = await g.client.request(method, path, headers=headers, json=payload)
            assert response.status_code in (401, 403), (method, path, response.text)


async def test_openapi_documents_calls_precisely(calls_gateway: CallsGateway) -> None:
    document = (await calls_gateway.client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    create = schemas["CallCreate"]
    assert create["additionalProperties"] is False
    assert create["properties"]["panel_size"]["maximum"] == 500
    assert set(create["required"]) == {"deadline", "panel_size"}
    candidate = schemas["CandidateRead"]["properties"]
    assert set(candidate) == {"ref", "score", "evidence", "adjustments", "roles"}
    post = document["paths"]["/v1/calls"]["post"]
    assert {"400", "401", "403", "422", "503"} <= set(post["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    match = document["paths"]["/v1/calls/{call_id}/match"]["post"]
    assert match["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/MatchResult"
    )
    json.dumps(document)  # serialisable as a whole
