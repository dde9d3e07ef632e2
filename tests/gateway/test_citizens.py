"""Citizen routes through the gateway, against the real profiles app."""

from __future__ import annotations

import uuid
from typing import Any

from tests.gateway.badges import Issuer
from tests.gateway.conftest import PASSWORD, Gateway

PROBLEM = "application/problem+json"

# The shape of a real ESCO skill URI (a 36-character UUID after the prefix): 69 characters.
ESCO_URI = "http://data.europa.eu/esco/skill/0f7e2a3c-3b5e-4c8b-9d61-2c1f5a8e7b90"


async def test_register_login_build_export_erase(gateway: Gateway) -> None:
    client = gateway.client
    created, headers = await gateway.citizen(email="Ada.Lovelace@Example.org", name="Ada")
    assert created["display_name"] == "Ada"
    citizen_id = created["id"]

    me = await client.get("/v1/me", headers=headers)
    assert me.status_code == 200, me.text
    assert me.json()["id"] == citizen_id

    patched = await client.patch(
        "/v1/me",
        headers=headers,
        json={
            "place": {
                "authority_code": "E08000035",
                "postcode_area": "LS",
                "lat": 53.8,
                "lon": -1.55,
            },
            "languages": ["en", "ur"],
            "access_needs": ["step-free access"],
            "consent": {"matching": True, "contact": True},
            "availability": {
                "max_invitations_per_month": 2,
                "hours_per_month": 6,
                "unavailable": [{"start": "2030-08-01T00:00:00Z", "end": "2030-08-15T00:00:00Z"}],
            },
        },
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["languages"] == ["en", "ur"]
    assert patched.json()["place"]["authority_code"] == "E08000035"

    skill = await client.post(
        "/v1/me/skills",
        headers=headers,
        json={"label": "Traffic modelling", "level": "can_do", "code": ESCO_URI},
    )
    assert skill.status_code == 201, skill.text
    assert skill.json()["code"] == ESCO_URI  # real ESCO URIs are longer than 64 characters
    for code in ("2434", "esco:traffic", "http://" + "x" * 300):
        refused = await client.post(
            "/v1/me/skills",
            headers=headers,
            json={"label": "Traffic modelling", "level": "can_do", "code": code},
        )
        assert refused.status_code == 422, (code, refused.text)
    second = await client.post(
        "/v1/me/skills", headers=headers, json={"label": "Cycling", "level": "can_explain"}
    )
    assert second.status_code == 201, second.text
    role = await client.post("/v1/me/roles", headers=headers, json={"role": "cab driver"})
    assert role.status_code == 201, role.text
    affiliation = await client.post(
        "/v1/me/affiliations",
        headers=headers,
        json={"organisation": "Leeds Cycling Campaign", "kind": "board"},
    )
    assert affiliation.status_code == 201, affiliation.text

    skills = await client.get("/v1/me/skills", headers=headers)
    assert sorted(item["label"] for item in skills.json()["items"]) == [
        "Cycling",
        "Traffic modelling",
    ]
    roles = await client.get("/v1/me/roles", headers=headers)
    assert [item["role"] for item in roles.json()["items"]] == ["cab driver"]
    affiliations = await client.get("/v1/me/affiliations", headers=headers)
    assert [item["kind"] for item in affiliations.json()["items"]] == ["board"]

    removed = await client.delete(f"/v1/me/skills/{second.json()['id']}", headers=headers)
    assert removed.status_code == 204
    skills = await client.get("/v1/me/skills", headers=headers)
    assert [item["label"] for item in skills.json()["items"]] == ["Traffic modelling"]

    exported = await client.get("/v1/me/export", headers=headers)
    assert exported.status_code == 200, exported.text
    export = exported.json()
    assert export["account"]["email"].lower() == "ada.lovelace@example.org"
    assert export["account"]["citizen_id"] == citizen_id
    assert "password" not in exported.text
    assert "argon2" not in exported.text
    assert "Traffic modelling" in exported.text
    assert "Leeds Cycling Campaign" in exported.text
    # No matcher runs beside this gateway: the export says which part it could not read.
    assert (export["matcher"], export["incomplete"]) == (None, ["matcher"])

    erased = await client.delete("/v1/me", headers=headers)
    assert erased.status_code == 204, erased.text
    after = await client.get("/v1/me", headers=headers)
    assert after.status_code == 401
    login = await client.post(
        "/v1/auth/token", data={"username": "ada.lovelace@example.org", "password": PASSWORD}
    )
    assert login.status_code == 401
    # The email is free again, for a new account with a new citizen id.
    again = await gateway.register(email="ada.lovelace@example.org")
    assert again["id"] != citizen_id


async def test_a_duplicate_email_gets_the_answer_of_a_new_one_regardless_of_case(
    gateway: Gateway,
) -> None:
    """Was a 409; issue 10 forbids enumeration through registration: the answer is a 201
    like any other (its id leads nowhere) and the address's owner is emailed instead."""
    first = await gateway.register(email="bob@example.org")
    response = await gateway.client.post(
        "/v1/citizens",
        json={"email": "BOB@example.org", "password": PASSWORD, "display_name": "Bob"},
    )
    assert response.status_code == 201
    assert response.json()["id"] != first["id"]
    await gateway.login("bob@example.org")


async def test_registration_is_validated_before_profiles_is_called(gateway: Gateway) -> None:
    before = len(gateway.seen_by_profiles.requests)
    cases: list[dict[str, Any]] = [
        {"email": "x@example.org", "password": "short", "display_name": "X"},
        {"email": "x@example.org", "password": "p" * 129, "display_name": "X"},
        {"email": "not-an-email", "password": PASSWORD, "display_name": "X"},
        {"email": "two@@example.org", "password": PASSWORD, "display_name": "X"},
        {"email": "spaced out@example.org", "password": PASSWORD, "display_name": "X"},
        {"email": "x@nodot", "password": PASSWORD, "display_name": "X"},
        {"email": "x@example.org", "password": PASSWORD, "display_name": ""},
        {"email": "x@example.org", "password": PASSWORD, "display_name": "X", "role": "admin"},
    ]
    for body in cases:
        response = await gateway.client.post("/v1/citizens", json=body)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == PROBLEM
        assert PASSWORD not in response.text
    assert len(gateway.seen_by_profiles.requests) == before


async def test_unknown_fields_and_bad_values_are_422(gateway: Gateway) -> None:
    _, headers = await gateway.citizen()
    bad_requests: list[tuple[str, str, dict[str, Any]]] = [
        ("PATCH", "/v1/me", {"email": "new@example.org"}),
        ("PATCH", "/v1/me", {"languages": ["english"]}),
        ("PATCH", "/v1/me", {"place": {"lat": 53.8}}),
        ("PATCH", "/v1/me", {"consent": {}}),
        ("PATCH", "/v1/me", {"consent": {"matching": None}}),
        ("PATCH", "/v1/me", {}),
        (
            "PATCH",
            "/v1/me",
            {
                "availability": {
                    "max_invitations_per_month": 1,
                    "hours_per_month": 1,
                    "unavailable": [
                        {"start": "2030-02-01T00:00:00Z", "end": "2030-01-01T00:00:00Z"}
                    ],
                }
            },
        ),
        ("POST", "/v1/me/skills", {"label": "x", "level": "expert"}),
        ("POST", "/v1/me/skills", {"label": "x", "level": "can_do", "citizen_id": "y"}),
        ("POST", "/v1/me/roles", {"role": ""}),
        ("POST", "/v1/me/affiliations", {"organisation": "Acme", "kind": "friend"}),
        ("POST", "/v1/me/badges", {}),
        ("POST", "/v1/me/badges", {"assertion": {"a": 1}, "credential": "x.y.z"}),
    ]
    for method, path, body in bad_requests:
        response = await gateway.client.request(method, path, json=body, headers=headers)
        assert response.status_code == 422, (method, path, body, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["errors"]


async def test_oversized_payload_is_413(gateway: Gateway) -> None:
    _, headers = await gateway.citizen()
    response = await gateway.client.post(
        "/v1/me/badges", headers=headers, json={"credential": "x" * 100_000}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


async def test_citizens_cannot_touch_each_others_objects(gateway: Gateway) -> None:
    client = gateway.client
    _, alice = await gateway.citizen()
    _, bob = await gateway.citizen()
    skill = await client.post(
        "/v1/me/skills", headers=alice, json={"label": "Hydrology", "level": "can_do"}
    )
    role = await client.post("/v1/me/roles", headers=alice, json={"role": "carer"})
    affiliation = await client.post(
        "/v1/me/affiliations", headers=alice, json={"organisation": "Acme", "kind": "employer"}
    )
    for created in (skill, role, affiliation):
        assert created.status_code == 201, created.text

    for path in (
        f"/v1/me/skills/{skill.json()['id']}",
        f"/v1/me/roles/{role.json()['id']}",
        f"/v1/me/affiliations/{affiliation.json()['id']}",
        f"/v1/me/badges/{uuid.uuid4()}",
    ):
        response = await client.delete(path, headers=bob)
        assert response.status_code == 404, (path, response.text)
        assert response.headers["content-type"] == PROBLEM

    assert (await client.get("/v1/me/skills", headers=bob)).json()["items"] == []
    assert (await client.get("/v1/me/roles", headers=bob)).json()["items"] == []
    alice_skills = await client.get("/v1/me/skills", headers=alice)
    assert [item["label"] for item in alice_skills.json()["items"]] == ["Hydrology"]
    alice_roles = await client.get("/v1/me/roles", headers=alice)
    assert len(alice_roles.json()["items"]) == 1


async def test_citizens_cannot_touch_each_others_badges(gateway: Gateway) -> None:
    client = gateway.client
    _, alice = await gateway.citizen()
    _, bob = await gateway.citizen()
    # Signed, but by an issuer nobody trusts: stored with verified=false.
    badge = await client.post(
        "/v1/me/badges",
        headers=alice,
        json={"credential": Issuer().credential(email="alice@example.org")},
    )
    assert badge.status_code == 201, badge.text
    badge_id = badge.json()["id"]
    assert badge.json()["verified"] is False
    assert (await client.get("/v1/me/badges", headers=bob)).json()["items"] == []
    stolen = await client.delete(f"/v1/me/badges/{badge_id}", headers=bob)
    assert stolen.status_code == 404
    listed = await client.get("/v1/me/badges", headers=alice)
    assert [item["id"] for item in listed.json()["items"]] == [badge_id]
    assert (await client.delete(f"/v1/me/badges/{badge_id}", headers=alice)).status_code == 204


async def test_request_id_and_internal_token_reach_profiles(gateway: Gateway) -> None:
    _, headers = await gateway.citizen()
    response = await gateway.client.get(
        "/v1/me", headers={**headers, "X-Request-ID": "trace-me-0042"}
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "trace-me-0042"
    method, path, seen = gateway.seen_by_profiles.requests[-1]
    assert (method, path.startswith("/v1/citizens/")) == ("GET", True)
    assert seen["x-request-id"] == "trace-me-0042"
    assert seen["x-internal-token"]
    assert "authorization" not in seen


async def test_special_use_email_domains_are_refused_before_profiles(gateway: Gateway) -> None:
    """Profiles refuses reserved domains such as *.invalid; the gateway applies the same rule
    itself, so the citizen gets a clear 422 and no account is half-made."""
    calls_before = len(gateway.seen_by_profiles.requests)
    response = await gateway.client.post(
        "/v1/citizens",
        json={
            "email": "demo.citizen@" + "demo.convene.invalid",
            "password": "a long enough password",
            "display_name": "Dee",
        },
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "email" in response.json()["detail"]
    assert len(gateway.seen_by_profiles.requests) == calls_before
    created = await gateway.register(email="demo.citizen@demo.convene.example")
    assert created["email"] == "demo.citizen@demo.convene.example"
