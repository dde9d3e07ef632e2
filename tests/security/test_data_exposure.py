"""Public bodies never see personal data; logs never hold it.

The response schemas reachable by a public body (every operation secured by an API key) are
walked from the OpenAPI document: no property may be a personal field. Then a whole journey
runs (registration, login, profile with a place, call, matching, export, erasure, failed
logins) and every log line the suite wrote is searched for the personal data and secrets used.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.security.harness import PASSWORD, Suite
from tests.security.test_mass_assignment import _refs

PERSONAL = re.compile(
    r"^(name|display_name|full_name|first_name|last_name|email|e_mail|phone|telephone|mobile|"
    r"address|street|postcode|lat|lon|latitude|longitude|date_of_birth|dob|birth_date|"
    r"birthday)$"
)
# Schemas allowed to hold such fields, and why:
CONSENTED_CONTACT: set[str] = {
    # An invitation's contact details: filled only once the citizen accepted and consented
    # to contact (convene_gateway.invitations); null otherwise.
    "Contact",
    # The call's own place (where the public body's question is about), not a citizen's.
    "CallPlaceRead",
}


def _properties(schema: Any, schemas: dict[str, Any]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    names = _refs(schema, schemas, set())
    for name in names:
        if name in CONSENTED_CONTACT:
            continue
        for prop in schemas[name].get("properties", {}):
            found.add((name, prop))
    if isinstance(schema, dict):
        for prop in schema.get("properties", {}):
            found.add(("<inline>", prop))
    return found


def public_body_exposure(openapi: dict[str, Any]) -> list[str]:
    schemas = openapi["components"]["schemas"]
    exposed = []
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            security = operation.get("security", [])
            if not any("ApiKey" in requirement for requirement in security):
                continue
            for status, response in operation.get("responses", {}).items():
                for content in response.get("content", {}).values():
                    for schema_name, prop in _properties(content.get("schema", {}), schemas):
                        if PERSONAL.match(prop):
                            exposed.append(
                                f"{method.upper()} {path} {status}: {schema_name}.{prop}"
                            )
    return exposed


def test_no_personal_field_is_reachable_by_a_public_body(openapi: dict[str, Any]) -> None:
    assert public_body_exposure(openapi) == []


def test_the_walk_finds_personal_fields_when_there_are_some(openapi: dict[str, Any]) -> None:
    planted = json.loads(json.dumps(openapi))
    get_me = planted["paths"]["/v1/me"]["get"]
    get_me["security"] = [{"ApiKey": []}]
    assert any(".email" in line for line in public_body_exposure(planted))


def test_a_full_journey_logs_no_personal_data_or_secrets(suite: Suite) -> None:
    start = len(suite.logs.lines)
    email = "Private.Person-7731@security.example"
    name = "Philippa Privatestone"
    created, headers = suite.citizen(email=email, name=name)
    suite.client.patch(
        "/v1/me",
        json={"place": {"authority_code": "E08000003", "postcode_area": "M14",
                        "lat": 53.4567, "lon": -2.2211}},
        headers=headers,
    )  # fmt: skip
    suite.client.post("/v1/me/skills", json={"label": "bridge design", "level": "can_do"},
                      headers=headers)  # fmt: skip
    suite.client.post("/v1/auth/token", data={"username": email, "password": "not the password"})
    suite.client.post("/v1/auth/token", data={"username": "ghost@security.example",
                                              "password": PASSWORD})  # fmt: skip
    suite.client.post("/v1/citizens", json={"email": email, "password": PASSWORD,
                                            "display_name": name})  # fmt: skip
    _, key_headers = suite.organisation()
    call = suite.client.post(
        "/v1/calls",
        json={"title": "Bridges", "description": "Footbridge repairs.", "questions": [],
              "skills": [{"label": "bridge design"}], "perspectives": [],
              "place": {"authority_code": "E08000003"}, "languages": ["en"], "hours": 1,
              "deadline": (datetime.now(UTC) + timedelta(days=9)).isoformat(),
              "panel_size": 2, "confidentiality": "public"},
        headers=key_headers,
    )  # fmt: skip
    if call.status_code == 201:
        suite.client.post(f"/v1/calls/{call.json()['id']}/match", json={}, headers=key_headers)
    assert suite.client.get("/v1/me/export", headers=headers).status_code == 200
    assert suite.client.delete("/v1/me", headers=headers).status_code == 204
    logged = "\n".join(suite.logs.lines[start:])
    assert "request" in logged, "the journey should have been logged"
    token = headers["Authorization"].removeprefix("Bearer ")
    secrets = {
        "email": email, "email (lower)": email.lower(), "name": name, "surname": "Privatestone",
        "password": PASSWORD, "token": token, "token signature": token.rsplit(".", 1)[-1],
        "api key": key_headers["X-API-Key"], "postcode": "M14", "latitude": "53.4567",
        "longitude": "-2.2211",
    }  # fmt: skip
    found = {label for label, value in secrets.items() if value in logged}
    assert not found, f"logged: {sorted(found)}"
    assert created["id"]
