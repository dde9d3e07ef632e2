"""Object-level authorization, generated from the gateway's route table.

Every /v1 route is tried by every principal: nobody (401), the wrong kind of principal
(403), and, for routes that take an object id, a principal of the right kind who does not
own the object (403 or 404). Object ids come from real objects made by their owners; a
route whose id no factory here can make is tried with a random id and listed, so new routes
are covered the day they land and incomplete coverage is visible.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.security.harness import Suite
from tests.security.routes import Kind, Route, routes

# Valid bodies, so a same-kind foreign principal gets past validation to the object check.
BODIES: dict[str, Any] = {
    "POST /v1/calls/{call_id}/match": {},
    "POST /v1/calls/{call_id}/close": {"outcome": "We built the lanes the panel proposed."},
    "POST /v1/calls/{call_id}/invitations": {"refs": ["c_00000000000000000000"]},
    "POST /v1/calls/{call_id}/contributions/{ref}/rating": {"rating": 4},
    "POST /v1/me/invitations/{invitation_id}/accept": {},
    "POST /v1/me/invitations/{invitation_id}/decline": {},
}


def call_body() -> dict[str, Any]:
    return {
        "title": "Protected bike lanes on Oxford Road",
        "description": "Segregated cycle lanes and junction changes; we want street designers.",
        "questions": ["How should junctions work with a protected lane?"],
        "skills": [{"label": "urban planning"}, {"label": "traffic engineering"}],
        "perspectives": [{"role": "cyclist", "min": 0, "max": 2}],
        "place": {"authority_code": "E08000003"},
        "languages": ["en"],
        "hours": 2,
        "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "panel_size": 3,
        "confidentiality": "public",
    }


class World:
    """Two of each principal, and objects owned by the first of each."""

    def __init__(self, suite: Suite) -> None:
        self.suite = suite
        self.citizen_a, self.citizen_a_headers = suite.citizen(name="Owner Citizen")
        self.citizen_b, self.citizen_b_headers = suite.citizen(name="Foreign Citizen")
        self.body_x, self.body_x_headers = suite.organisation()
        self.body_y, self.body_y_headers = suite.organisation()
        self.ids: dict[str, str] = {}
        self.unmade: set[str] = set()
        self._make_citizen_objects()
        self._make_body_objects()

    def headers(self, who: str) -> dict[str, str]:
        return {
            "anonymous": {},
            "citizen_a": self.citizen_a_headers,
            "citizen_b": self.citizen_b_headers,
            "admin": self.suite.admin_headers,
            "body_x": self.body_x_headers,
            "body_y": self.body_y_headers,
        }[who]

    def _post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        response = self.suite.client.post(path, json=body, headers=headers)
        assert response.status_code in (200, 201), f"{path}: {response.text}"
        answer: dict[str, Any] = response.json()
        return answer

    def _make_citizen_objects(self) -> None:
        a = self.citizen_a_headers
        self.ids["skill_id"] = self._post(
            "/v1/me/skills", {"label": "bridge design", "level": "can_do"}, a
        )["id"]
        self.ids["role_id"] = self._post("/v1/me/roles", {"role": "cyclist"}, a)["id"]
        # Configuration 1 (the defaults) is made when the matcher starts.
        self.ids["config_id"] = "1"
        # A well-formed candidate ref (c_ + 20 hex digits) that no call handed out.
        self.ids["ref"] = "c_" + uuid.uuid4().hex[:20]
        self.ids["affiliation_id"] = self._post(
            "/v1/me/affiliations", {"organisation": "Metro Cabs Ltd", "kind": "employer"}, a
        )["id"]

    def _make_body_objects(self) -> None:
        admin = self.suite.admin_headers
        self.ids["organisation_id"] = str(self.body_x["id"])
        keys = self.suite.client.get(
            f"/v1/admin/organisations/{self.body_x['id']}/api-keys", headers=admin
        )
        self.ids["key_id"] = keys.json()["items"][0]["id"]
        created = self.suite.client.post("/v1/calls", json=call_body(), headers=self.body_x_headers)
        if created.status_code == 201:
            self.ids["call_id"] = created.json()["id"]

    def value(self, parameter: str) -> str:
        if parameter in self.ids:
            return self.ids[parameter]
        self.unmade.add(parameter)
        return str(uuid.uuid4())


# Who tries each kind of route, and which of them do not own the objects in it.
FOREIGN: dict[Kind, tuple[str, ...]] = {
    "citizen": ("anonymous", "body_x", "admin", "citizen_b"),
    "public_body": ("anonymous", "citizen_a", "admin", "body_y"),
    "admin": ("anonymous", "citizen_a", "body_x"),
    "anonymous": (),
}
KIND_OF = {
    "citizen_a": "citizen",
    "citizen_b": "citizen",
    "admin": "admin",
    "body_x": "public_body",
    "body_y": "public_body",
}
# Routes where a same-kind principal acts on its own scope by design (no object of another).
SELF_SCOPED = {"citizen": "citizen_a", "public_body": "body_x"}


@pytest.fixture(scope="module")
def world(suite: Suite) -> World:
    return World(suite)


def _request(suite: Suite, route: Route, url: str, headers: dict[str, str]) -> httpx.Response:
    body = BODIES.get(route.label, {}) if route.has_body else None
    return suite.client.request(
        route.method,
        url,
        json=body,
        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
    )


def test_no_principal_reaches_what_is_not_theirs(suite: Suite, world: World) -> None:
    table = [route for route in routes(suite.gateway) if route.kind != "anonymous"]
    assert len(table) >= 20, "the route table looks empty"
    leaks: list[str] = []
    inconclusive: list[str] = []
    tried = 0
    for route in table:
        url = route.url({name: world.value(name) for name in route.parameters})
        for who in FOREIGN[route.kind]:
            if who != "anonymous" and KIND_OF[who] == route.kind and not route.parameters:
                continue  # /v1/me and friends: always the caller's own
            response = _request(suite, route, url, world.headers(who))
            tried += 1
            status = response.status_code
            if who == "anonymous":
                allowed: tuple[int, ...] = (401,)
            elif KIND_OF[who] != route.kind:
                allowed = (403,)
            else:
                allowed = (403, 404)
            if status in allowed:
                continue
            entry = f"{route.label} as {who}: {status} {response.text[:200]}"
            # A 422 from a same-kind foreigner means the example body is not valid any more:
            # the object check was not reached, so the cell proves nothing.
            (inconclusive if status == 422 else leaks).append(entry)
    assert tried >= 60
    assert not leaks, "\n".join(leaks)
    assert not inconclusive, "add a valid body to BODIES:\n" + "\n".join(inconclusive)


def test_objects_survive_foreign_deletes(suite: Suite, world: World) -> None:
    """Foreign DELETEs above answered 404; the owner still has every object."""
    a = world.citizen_a_headers
    for collection, key in (
        ("skills", "skill_id"),
        ("roles", "role_id"),
        ("affiliations", "affiliation_id"),
    ):
        response = suite.client.get(f"/v1/me/{collection}", headers=a)
        assert response.status_code == 200
        assert world.ids[key] in {item["id"] for item in response.json()["items"]}
    if "call_id" in world.ids:
        own = suite.client.get(f"/v1/calls/{world.ids['call_id']}", headers=world.body_x_headers)
        assert own.status_code == 200, own.text


def test_owners_reach_their_own_objects(suite: Suite, world: World) -> None:
    """The matrix is only meaningful if the same requests work for the owner."""
    owner = {"citizen": "citizen_a", "public_body": "body_x", "admin": "admin"}
    failures = []
    for route in routes(suite.gateway):
        if route.method != "GET" or route.kind == "anonymous":
            continue
        if any(name not in world.ids for name in route.parameters):
            continue
        response = suite.client.get(route.url(world.ids), headers=world.headers(owner[route.kind]))
        if response.status_code >= 400 and response.status_code not in (503,):
            failures.append(f"{route.label}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)
