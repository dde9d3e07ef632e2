"""Badges: real keys, real signatures, a real HTTP server for hosted assertions."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from tests.profiles.conftest import CreateCitizen, table_counts

ISSUER = "https://badges.example.org/issuer"


class DocumentServer:
    def __init__(self) -> None:
        self.documents: dict[str, Any] = {}
        documents = self.documents

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path not in documents:
                    self.send_response(404)
                    self.end_headers()
                    return
                body = json.dumps(documents[self.path]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture
def docs() -> Iterator[DocumentServer]:
    server = DocumentServer()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


def ec_key() -> tuple[ec.EllipticCurvePrivateKey, dict[str, Any]]:
    private = ec.generate_private_key(ec.SECP256R1())
    return private, json.loads(ECAlgorithm.to_jwk(private.public_key()))


def vc_payload(
    email: str, *, issuer: str = ISSUER, credential_id: str | None = None, **extra: Any
) -> dict[str, Any]:
    now = datetime.now(UTC)
    credential: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": credential_id or f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer, "name": "Civic Skills Academy"},
        "validFrom": (now - timedelta(days=30)).isoformat(),
        "credentialSubject": {
            "id": f"mailto:{email}",
            "achievement": {
                "id": "https://badges.example.org/achievements/1",
                "name": "Street design for all",
                "description": "Designs inclusive streets",
                "criteria": {"narrative": "Completed the course and a project"},
            },
        },
    }
    credential.update(extra)
    return {"iss": issuer, "jti": credential["id"], "vc": credential}


async def register(client: httpx.AsyncClient, jwk: dict[str, Any] | None, **extra: Any) -> None:
    body = {"id": ISSUER, "name": "Civic Skills Academy", "public_key_jwk": jwk, **extra}
    response = await client.post("/v1/badge-issuers", json=body)
    assert response.status_code == 201, response.text


async def test_ob3_es256_credential_is_verified(
    client: httpx.AsyncClient, create_citizen: CreateCitizen
) -> None:
    citizen = await create_citizen(email="ada@example.org")
    private, jwk = ec_key()
    await register(client, jwk)
    token = jwt.encode(vc_payload("Ada@Example.org"), private, algorithm="ES256")
    response = await client.post(f"/v1/citizens/{citizen['id']}/badges", json={"credential": token})
    assert response.status_code == 201, response.text
    badge = response.json()
    assert badge["verified"] is True, badge["verification"]
    assert badge["verification"]["checks"] == {
        "signature": True,
        "issuer": True,
        "expiry": True,
        "revocation": True,
        "recipient": True,
    }
    assert badge["name"] == "Street design for all"
    assert badge["issuer_id"] == ISSUER
    assert badge["issuer_name"] == "Civic Skills Academy"
    assert badge["criteria"] == "Completed the course and a project"
    assert badge["format"] == "ob3"
    changes = (await client.get("/v1/changes")).json()["items"]
    assert changes[-1]["snapshot"]["badges"][0]["verified"] is True
    # The matcher drops the verified bonus at expiry, so the feed carries it.
    assert changes[-1]["snapshot"]["badges"][0]["expires_at"] == badge["expires_at"]
    export = (await client.get(f"/v1/citizens/{citizen['id']}/export")).json()
    assert export["badges"][0]["raw_credential"] == token


async def test_ob3_failures_are_stored_unverified(
    client: httpx.AsyncClient, create_citizen: CreateCitizen
) -> None:
    citizen = await create_citizen(email="ada@example.org")
    private, jwk = ec_key()
    forger, _ = ec_key()
    await register(client, jwk, revoked_credential_ids=["urn:uuid:revoked-one"])
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    cases = {
        "signature": jwt.encode(vc_payload("ada@example.org"), forger, algorithm="ES256"),
        "expiry": jwt.encode(
            vc_payload("ada@example.org", validUntil=past), private, algorithm="ES256"
        ),
        "revocation": jwt.encode(
            vc_payload("ada@example.org", credential_id="urn:uuid:revoked-one"),
            private,
            algorithm="ES256",
        ),
        "recipient": jwt.encode(vc_payload("bob@example.org"), private, algorithm="ES256"),
        "issuer": jwt.encode(
            vc_payload("ada@example.org", issuer="https://unknown.example.org"),
            private,
            algorithm="ES256",
        ),
    }
    for failing, token in cases.items():
        response = await client.post(
            f"/v1/citizens/{citizen['id']}/badges", json={"credential": token}
        )
        assert response.status_code == 201, response.text
        badge = response.json()
        assert badge["verified"] is False, failing
        assert badge["verification"]["checks"][failing] is False, failing
        assert badge["verification"]["errors"], failing
        if failing not in ("issuer",):
            others = {k: v for k, v in badge["verification"]["checks"].items() if k != failing}
            assert all(others.values()), (failing, badge["verification"])
    listed = (await client.get(f"/v1/citizens/{citizen['id']}/badges")).json()["items"]
    assert len(listed) == 5
    snapshot = (await client.get("/v1/changes")).json()["items"][-1]["snapshot"]
    assert [badge["verified"] for badge in snapshot["badges"]] == [False] * 5


async def test_ob3_did_jwk_eddsa_and_hashed_identifier(
    client: httpx.AsyncClient, create_citizen: CreateCitizen
) -> None:
    citizen = await create_citizen(email="ada@example.org")
    private = ed25519.Ed25519PrivateKey.generate()
    jwk = json.loads(OKPAlgorithm.to_jwk(private.public_key()))
    did = "did:jwk:" + base64.urlsafe_b64encode(json.dumps(jwk).encode()).decode().rstrip("=")
    salt = "pepper"
    payload = vc_payload("x@example.org", issuer=did)
    payload["vc"]["credentialSubject"].pop("id")
    payload["vc"]["credentialSubject"]["identifier"] = [
        {
            "type": "IdentityObject",
            "identityType": "emailAddress",
            "hashed": True,
            "salt": salt,
            "identityHash": "sha256$"
            + hashlib.sha256(("ada@example.org" + salt).encode()).hexdigest(),
        }
    ]
    token = jwt.encode(payload, private, algorithm="EdDSA")
    base = f"/v1/citizens/{citizen['id']}/badges"
    # Signed correctly by the DID's key, but the DID is not yet trusted.
    untrusted = (await client.post(base, json={"credential": token})).json()
    assert untrusted["verification"]["checks"]["signature"] is True
    assert untrusted["verification"]["checks"]["issuer"] is False
    assert untrusted["verified"] is False
    response = await client.post(
        "/v1/badge-issuers", json={"id": did, "name": "DID issuer", "public_key_jwk": None}
    )
    assert response.status_code == 201
    trusted = (await client.post(base, json={"credential": token})).json()
    assert trusted["verified"] is True, trusted["verification"]


async def test_ob3_revocation_list_is_fetched(
    client: httpx.AsyncClient, create_citizen: CreateCitizen, docs: DocumentServer
) -> None:
    citizen = await create_citizen(email="ada@example.org")
    private, jwk = ec_key()
    await register(client, jwk)
    docs.documents["/revocations"] = {"revokedCredentials": [{"id": "urn:uuid:gone"}]}
    status = {"id": docs.url("/revocations"), "type": "1EdTechRevocationList"}
    base = f"/v1/citizens/{citizen['id']}/badges"
    for credential_id, expected in (("urn:uuid:gone", False), ("urn:uuid:fine", True)):
        token = jwt.encode(
            vc_payload("ada@example.org", credential_id=credential_id, credentialStatus=status),
            private,
            algorithm="ES256",
        )
        badge = (await client.post(base, json={"credential": token})).json()
        assert badge["verification"]["checks"]["revocation"] is expected
        assert badge["verified"] is expected


def ob2_documents(docs: DocumentServer, email: str, **assertion_extra: Any) -> dict[str, Any]:
    issuer_id = docs.url("/issuer")
    docs.documents["/issuer"] = {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Issuer",
        "id": issuer_id,
        "name": "Open Data Manchester",
    }
    docs.documents["/badge-class"] = {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "BadgeClass",
        "id": docs.url("/badge-class"),
        "name": "Data analysis for communities",
        "description": "Can analyse open data",
        "criteria": {"narrative": "Built a dashboard"},
        "issuer": issuer_id,
    }
    assertion = {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Assertion",
        "id": docs.url("/assertion"),
        "recipient": {
            "type": "email",
            "hashed": True,
            "salt": "s4lt",
            "identity": "sha256$" + hashlib.sha256((email + "s4lt").encode()).hexdigest(),
        },
        "badge": docs.url("/badge-class"),
        "verification": {"type": "hosted"},
        "issuedOn": "2024-05-01T00:00:00Z",
        **assertion_extra,
    }
    docs.documents["/assertion"] = assertion
    return assertion


async def test_ob2_hosted_assertion(
    client: httpx.AsyncClient, create_citizen: CreateCitizen, docs: DocumentServer
) -> None:
    citizen = await create_citizen(email="ada@example.org")
    assertion = ob2_documents(docs, "ada@example.org")
    await client.post(
        "/v1/badge-issuers", json={"id": docs.url("/issuer"), "name": "Open Data Manchester"}
    )
    base = f"/v1/citizens/{citizen['id']}/badges"
    badge = (await client.post(base, json={"assertion": assertion})).json()
    assert badge["verified"] is True, badge["verification"]
    assert badge["format"] == "ob2_hosted"
    assert badge["name"] == "Data analysis for communities"
    assert badge["issuer_name"] == "Open Data Manchester"
    # The issuer revokes it: the hosted copy says so, whatever the submitted copy claims.
    docs.documents["/assertion"] = {**assertion, "revoked": True, "revocationReason": "error"}
    revoked = (await client.post(base, json={"assertion": assertion})).json()
    assert revoked["verified"] is False
    assert revoked["verification"]["checks"]["revocation"] is False
    # A hosted assertion that cannot be fetched cannot be verified.
    del docs.documents["/assertion"]
    gone = (await client.post(base, json={"assertion": assertion})).json()
    assert gone["verification"]["checks"]["signature"] is False
    assert gone["verified"] is False


async def test_ob2_hosted_wrong_recipient_and_disallowed_host(
    client: httpx.AsyncClient, create_citizen: CreateCitizen, docs: DocumentServer
) -> None:
    citizen = await create_citizen(email="ada@example.org")
    await client.post("/v1/badge-issuers", json={"id": docs.url("/issuer"), "name": "ODM"})
    base = f"/v1/citizens/{citizen['id']}/badges"
    assertion = ob2_documents(docs, "someone.else@example.org")
    wrong = (await client.post(base, json={"assertion": assertion})).json()
    assert wrong["verification"]["checks"]["recipient"] is False
    assert wrong["verified"] is False
    elsewhere = {**assertion, "id": assertion["id"].replace("127.0.0.1", "localhost")}
    refused = (await client.post(base, json={"assertion": elsewhere})).json()
    assert refused["verification"]["checks"]["signature"] is False
    assert any("allow-list" in error for error in refused["verification"]["errors"])


async def test_ob2_signed_rs256_assertion(
    client: httpx.AsyncClient, create_citizen: CreateCitizen
) -> None:
    citizen = await create_citizen(email="ada@example.org")
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    await register(client, jwk)
    assertion = {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Assertion",
        "id": "urn:uuid:" + str(uuid.uuid4()),
        "recipient": {"type": "email", "hashed": False, "identity": "ada@example.org"},
        "badge": {
            "type": "BadgeClass",
            "name": "Accessibility auditing",
            "description": "Audits buildings",
            "criteria": "https://badges.example.org/criteria",
            "issuer": {"id": ISSUER, "type": "Issuer", "name": "Civic Skills Academy"},
        },
        "verification": {"type": "signed", "creator": ISSUER + "/key"},
        "issuedOn": "2024-01-01T00:00:00Z",
    }
    signed = jwt.api_jws.encode(json.dumps(assertion).encode(), private, algorithm="RS256")
    base = f"/v1/citizens/{citizen['id']}/badges"
    badge = (await client.post(base, json={"assertion": signed})).json()
    assert badge["verified"] is True, badge["verification"]
    assert badge["format"] == "ob2_signed"
    header, _payload, signature = signed.split(".")
    tampered_payload = (
        base64.urlsafe_b64encode(
            json.dumps(
                {**assertion, "badge": {**assertion["badge"], "name": "Chief engineer"}}
            ).encode()
        )
        .decode()
        .rstrip("=")
    )
    forged = (
        await client.post(base, json={"assertion": f"{header}.{tampered_payload}.{signature}"})
    ).json()
    assert forged["verified"] is False
    assert forged["verification"]["checks"]["signature"] is False


async def test_unparseable_badges_are_422_and_change_nothing(
    client: httpx.AsyncClient, create_citizen: CreateCitizen, db: asyncpg.Connection[Any]
) -> None:
    citizen = await create_citizen(email="ada@example.org")
    private, jwk = ec_key()
    await register(client, jwk)
    before = await table_counts(db)
    unsigned = jwt.encode(vc_payload("ada@example.org"), key=None, algorithm="none")
    hs = jwt.encode(vc_payload("ada@example.org"), "secret" * 8, algorithm="HS256")
    no_subject = jwt.encode({"iss": ISSUER, "vc": {"issuer": ISSUER}}, private, algorithm="ES256")
    bodies: list[dict[str, Any]] = [
        {"credential": "not-a-jwt"},
        {"credential": "a.b.c"},
        {"credential": unsigned},
        {"credential": hs},
        {"credential": no_subject},
        {"assertion": {"id": "https://x.example/a"}},
        {"assertion": {"recipient": {}, "badge": "x", "verification": {"type": "signed"}}},
        {"assertion": "nope"},
        {"credential": "a.b.c", "assertion": {"x": 1}},
        {},
        {"credential": 5},
    ]
    for body in bodies:
        response = await client.post(f"/v1/citizens/{citizen['id']}/badges", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"]
    assert await table_counts(db) == before


async def test_issuer_registry_validation(
    client: httpx.AsyncClient, db: asyncpg.Connection[Any]
) -> None:
    private, jwk = ec_key()
    await register(client, jwk)
    before = await table_counts(db)
    private_jwk = json.loads(ECAlgorithm.to_jwk(private))
    for body in (
        {"id": "https://a.example", "name": "A", "public_key_jwk": {"kty": "nope"}},
        {"id": "https://b.example", "name": "B", "public_key_jwk": private_jwk},
        {"id": "https://c.example", "name": "C", "public_key_jwk": {"kty": "oct", "k": "abc"}},
        {"id": "https://d.example", "name": "D", "unexpected": 1},
    ):
        response = await client.post("/v1/badge-issuers", json=body)
        assert response.status_code == 422, body
    duplicate = await client.post("/v1/badge-issuers", json={"id": ISSUER, "name": "again"})
    assert duplicate.status_code == 409
    assert await table_counts(db) == before
    listing = (await client.get("/v1/badge-issuers")).json()
    assert [issuer["id"] for issuer in listing["items"]] == [ISSUER]
