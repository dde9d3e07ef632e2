"""Writes that carry server-owned fields are refused with 422 and change nothing.

Every write operation in the OpenAPI document is tried with each server-owned field added to
its body (at the top level, and inside every nested object the body has); the field must
be named in the validation errors (so the 422 is about it, not about something else).
"""

from __future__ import annotations

from typing import Any

from tests.security.harness import Suite

SERVER_OWNED = (
    "id", "role", "verified", "rating", "status", "owner", "seq", "created_at",
    "citizen_id", "organisation_id", "public_body_id", "scopes", "kind", "account_id",
)  # fmt: skip

# A valid body for each write the citizen, admin or public body can make.
VALID: dict[str, dict[str, Any]] = {
    "POST /v1/citizens": {
        "email": "mass-assignment@security.example", "password": "long enough password",
        "display_name": "Mass Assignment",
    },
    "PATCH /v1/me": {"display_name": "New Name", "consent": {"matching": True, "contact": False},
                     "place": {"authority_code": "E08000003"}},
    "POST /v1/me/skills": {"label": "bridge design", "level": "can_do"},
    "POST /v1/me/roles": {"role": "cyclist"},
    "POST /v1/me/affiliations": {"organisation": "Metro Cabs", "kind": "employer"},
    "POST /v1/admin/organisations": {"name": "Mass Council", "kind": "council"},
    "POST /v1/admin/roles": {"slug": "mass-role", "label": "Mass role"},
}  # fmt: skip


def _with_field(body: dict[str, Any], field: str) -> list[dict[str, Any]]:
    """The body with `field` added at the top and inside each nested object."""
    variants = []
    if field not in body:
        variants.append({**body, field: "00000000-0000-0000-0000-000000000001"})
    for key, value in body.items():
        if isinstance(value, dict) and field not in value:
            variants.append({**body, key: {**value, field: True}})
    return variants


def _headers(suite: Suite, path: str, citizen: dict[str, str]) -> dict[str, str]:
    if path.startswith("/v1/admin"):
        return suite.admin_headers
    return citizen


def test_server_owned_fields_are_refused_and_change_nothing(suite: Suite) -> None:
    created, citizen = suite.citizen(name="Mass Owner")
    before = _profile(suite, citizen)
    organisations_before = suite.client.get(
        "/v1/admin/organisations?limit=200", headers=suite.admin_headers
    ).json()
    tried = 0
    accepted = []
    for label, body in VALID.items():
        method, path = label.split(" ", 1)
        for field in SERVER_OWNED:
            for variant in _with_field(body, field):
                response = suite.client.request(
                    method, path, json=variant, headers=_headers(suite, path, citizen)
                )
                tried += 1
                named = (
                    any(
                        error["loc"].split(".")[-1] == field
                        for error in response.json().get("errors", [])
                    )
                    if response.status_code == 422
                    else False
                )
                if not named:
                    accepted.append(
                        f"{label} + {field}: {response.status_code} {response.text[:160]}"
                    )
    assert tried > 100
    assert not accepted, "\n".join(accepted)
    after = _profile(suite, citizen)
    assert after == before
    assert (
        suite.client.get("/v1/admin/organisations?limit=200", headers=suite.admin_headers).json()
        == organisations_before
    )
    assert created["id"]


def test_request_bodies_forbid_unknown_fields(openapi: dict[str, Any]) -> None:
    """Every request schema in the document says additionalProperties: false (extra=forbid)."""
    schemas = openapi["components"]["schemas"]
    # Deliberately lenient, and why: benchmark papers carry extra keys such as "year" that
    # are dropped, never forwarded (convene_gateway.affinity.schemas.Paper).
    lenient = {"Paper"}
    open_models = []
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if schema is None:
                continue
            for ref in _refs(schema, schemas, set()):
                model = schemas[ref]
                if ref in lenient:
                    continue
                if model.get("type") == "object" and model.get("additionalProperties") is not False:
                    open_models.append(f"{method.upper()} {path}: {ref}")
    assert not open_models, "\n".join(sorted(set(open_models)))


def test_a_citizen_cannot_ask_for_admin_scope(suite: Suite) -> None:
    created = suite.register()
    response = suite.client.post(
        "/v1/auth/token",
        data={"username": created["email"], "password": "correct horse battery staple",
              "scope": "admin me:read"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "admin" not in response.json()["scope"].split()
    token = {"Authorization": f"Bearer {response.json()['access_token']}"}
    assert suite.client.get("/v1/admin/organisations", headers=token).status_code == 403


def _profile(suite: Suite, headers: dict[str, str]) -> dict[str, Any]:
    profile: dict[str, Any] = suite.client.get("/v1/me/export", headers=headers).json()["profile"]
    profile.pop("exported_at", None)
    return profile


def _refs(schema: Any, schemas: dict[str, Any], seen: set[str]) -> set[str]:
    """Names of every component schema reachable from `schema`."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                _refs(schemas[name], schemas, seen)
        for value in schema.values():
            _refs(value, schemas, seen)
    elif isinstance(schema, list):
        for value in schema:
            _refs(value, schemas, seen)
    return seen
