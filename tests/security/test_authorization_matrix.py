"""Object-level authorization, generated from the gateway's route table.

Every /v1 route is tried by every principal: nobody (401), the wrong kind of principal
(403), and, for routes that take an object id, a principal of the right kind who does not
own the object (403 or 404). Principal kinds: citizens, admins, public bodies (an API key,
or a staff member's bearer token: an officer of another body gets 404 on a call), staff
managers (members, keys, audit: an officer gets 403) and any signed-in account. Object
ids come from real objects made by their owners; a
route whose id no factory here can make is tried with a random id and listed, so new routes
are covered the day they land and incomplete coverage is visible.
"""

from __future__ import annotations

import time
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
    "POST /v1/me/invitations/{invitation_id}/contribution": {"comment": "A stranger's words."},
    "PATCH /v1/calls/{call_id}": {"title": "Changed by a stranger"},
    "POST /v1/calls/{call_id}/cancel": {"reason": "Cancelled by a stranger"},
    "PATCH /v1/organisation/members/{account_id}": {"role": "officer"},
    "PATCH /v1/me/experience/{entry_id}": {"title": "Changed by a stranger"},
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
        self.manager_x, self.manager_x_headers = suite.staff(self.body_x, "manager")
        self.officer_x, self.officer_x_headers = suite.staff(self.body_x, "officer")
        self.manager_y, self.manager_y_headers = suite.staff(self.body_y, "manager")
        self.officer_y, self.officer_y_headers = suite.staff(self.body_y, "officer")
        self.ids: dict[str, str] = {"account_id": self.officer_x["account_id"]}
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
            "manager_x": self.manager_x_headers,
            "officer_x": self.officer_x_headers,
            "manager_y": self.manager_y_headers,
            "officer_y": self.officer_y_headers,
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
        self.ids["entry_id"] = self._post(
            "/v1/me/experience",
            {
                "kind": "volunteering",
                "title": "Ride leader",
                "description": "I lead weekly group rides for new cyclists in the city centre.",
            },
            a,
        )["id"]
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
        imported = self.suite.client.post(
            "/v1/admin/imports",
            files={"file": ("r.jsonl", b'{"source": "S"}\n', "application/octet-stream")},
            data={"format": "jsonl"},
            headers=self.manager_x_headers,
        )
        assert imported.status_code == 202, imported.text
        self.ids["import_id"] = imported.json()["id"]
        created = self.suite.client.post("/v1/calls", json=call_body(), headers=self.body_x_headers)
        if created.status_code == 201:
            self.ids["call_id"] = created.json()["id"]
            # Matched once, so GET .../match has a last match for its owner.
            matched = self.suite.client.post(
                f"/v1/calls/{self.ids['call_id']}/match", json={}, headers=self.body_x_headers
            )
            assert matched.status_code == 200, matched.text
            self._make_contribution()

    def _make_contribution(self) -> None:
        """citizen_a's invitation to body_x's call, accepted, with a contribution: the
        invitation and its contribution are citizen_a's objects."""
        a = self.citizen_a_headers
        consent = self.suite.client.patch(
            "/v1/me",
            json={
                "consent": {"matching": True, "contact": False},
                # The call's place and language filters.
                "place": {"authority_code": "E08000003"},
                "languages": ["en"],
            },
            headers=a,
        )
        assert consent.status_code == 200, consent.text
        self._post("/v1/me/skills", {"label": "urban planning", "level": "can_do"}, a)
        items: list[dict[str, Any]] = []
        for _ in range(20):  # the change feed reaches the matcher within a few seconds
            matched = self.suite.client.post(
                f"/v1/calls/{self.ids['call_id']}/match", json={}, headers=self.body_x_headers
            )
            if matched.status_code == 200 and matched.json()["panel"]:
                invited = self.suite.client.post(
                    f"/v1/calls/{self.ids['call_id']}/invitations",
                    json={},
                    headers={**self.body_x_headers, "Idempotency-Key": uuid.uuid4().hex},
                )
                assert invited.status_code == 201, invited.text
                mine = self.suite.client.get("/v1/me/invitations", headers=a)
                items = [i for i in mine.json()["items"] if i["call_id"] == self.ids["call_id"]]
                if items:
                    break
            time.sleep(0.5)
        assert items, "citizen_a was not invited: the matrix would not try their invitation"
        invitation_id = items[0]["id"]
        accepted = self.suite.client.post(
            f"/v1/me/invitations/{invitation_id}/accept", json={}, headers=self.citizen_a_headers
        )
        assert accepted.status_code == 200, accepted.text
        self._post(
            f"/v1/me/invitations/{invitation_id}/contribution",
            {"comment": "Junctions need their own signal phase."},
            self.citizen_a_headers,
        )
        self.ids["invitation_id"] = invitation_id

    def value(self, parameter: str) -> str:
        if parameter in self.ids:
            return self.ids[parameter]
        self.unmade.add(parameter)
        return str(uuid.uuid4())


# Who tries each kind of route, and what each may be answered: a wrong kind 403, nobody
# 401, a right-kind stranger (tried only on routes with an object id) 403 or 404.
STRANGER = (403, 404)
FOREIGN: dict[Kind, dict[str, tuple[int, ...]]] = {
    "citizen": {
        "anonymous": (401,),
        "body_x": (403,),
        "admin": (403,),
        "officer_x": (403,),
        "citizen_b": STRANGER,
    },
    "public_body": {
        "anonymous": (401,),
        "citizen_a": (403,),
        "admin": (403,),
        "body_y": STRANGER,
        "officer_y": STRANGER,
        "manager_y": STRANGER,
    },
    "admin": {"anonymous": (401,), "citizen_a": (403,), "body_x": (403,), "manager_x": (403,)},
    # Imports: an admin, or a manager for their own organisation (another's import: 404).
    "admin_or_manager": {
        "anonymous": (401,),
        "citizen_a": (403,),
        "body_x": (403,),
        "officer_x": (403,),
        "manager_y": STRANGER,
    },
    "manager": {
        "anonymous": (401,),
        "citizen_a": (403,),
        "admin": (403,),
        # An API key on a staff-only route: no bearer token at all.
        "body_x": (401, 403),
        "officer_x": (403,),
        "manager_y": STRANGER,
    },
    "member": {"anonymous": (401,), "citizen_a": (403,), "admin": (403,), "body_x": (401, 403)},
    "account": {"anonymous": (401,), "body_x": (401, 403)},
    "anonymous": {},
}


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
        for who, allowed in FOREIGN[route.kind].items():
            if allowed == STRANGER and not route.parameters:
                continue  # /v1/me and friends: always the caller's own
            if route.label in ("POST /v1/auth/logout", "POST /v1/auth/logout-everywhere"):
                continue  # would end the session the rest of the matrix uses (tested apart)
            response = _request(suite, route, url, world.headers(who))
            tried += 1
            status = response.status_code
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
        ("experience", "entry_id"),
    ):
        response = suite.client.get(f"/v1/me/{collection}", headers=a)
        assert response.status_code == 200
        assert world.ids[key] in {item["id"] for item in response.json()["items"]}
    if "call_id" in world.ids:
        own = suite.client.get(f"/v1/calls/{world.ids['call_id']}", headers=world.body_x_headers)
        assert own.status_code == 200, own.text
    if "invitation_id" in world.ids:
        contribution = suite.client.get(
            f"/v1/me/invitations/{world.ids['invitation_id']}/contribution", headers=a
        )
        assert contribution.status_code == 200, contribution.text
        assert contribution.json()["comment"] == "Junctions need their own signal phase."


def test_owners_reach_their_own_objects(suite: Suite, world: World) -> None:
    """The matrix is only meaningful if the same requests work for the owner."""
    owner = {
        "citizen": "citizen_a",
        "public_body": "body_x",
        "admin": "admin",
        "admin_or_manager": "manager_x",
        "manager": "manager_x",
        "member": "officer_x",
        "account": "citizen_a",
    }
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


def test_staff_act_for_their_own_body_only(suite: Suite, world: World) -> None:
    """The same call through the body's key, its officer and its manager; another body's
    officer and manager get 404."""
    call_id = world.ids.get("call_id")
    if call_id is None:
        pytest.skip("the suite runs without the matcher")
    for who in ("body_x", "officer_x", "manager_x"):
        own = suite.client.get(f"/v1/calls/{call_id}", headers=world.headers(who))
        assert own.status_code == 200, (who, own.text)
    for who in ("officer_y", "manager_y"):
        other = suite.client.get(f"/v1/calls/{call_id}", headers=world.headers(who))
        assert other.status_code == 404, (who, other.text)
