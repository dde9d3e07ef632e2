"""A citizen's whole journey through the public gateway, with every service a real process.

Register, log in, build a profile with a verified Open Badge, see it reach the matcher through
the change feed, export, erase — and the feed shows each step in increasing sequence.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from scripts.suite import Suite, run_module
from tests.e2e.verification import verify_from_outbox

pytestmark = pytest.mark.e2e


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _issuer_key() -> tuple[ec.EllipticCurvePrivateKey, dict[str, Any]]:
    key = ec.generate_private_key(ec.SECP256R1())
    numbers = key.public_key().public_numbers()
    jwk = {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64url(numbers.x.to_bytes(32, "big")),
        "y": _b64url(numbers.y.to_bytes(32, "big")),
    }
    return key, jwk


def _ob3_credential(
    key: ec.EllipticCurvePrivateKey, *, issuer_id: str, email: str, name: str
) -> str:
    now = int(time.time())
    credential = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_id, "type": ["Profile"], "name": "Cycling Academy"},
        "validFrom": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60)),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {"type": "IdentityObject", "identityType": "emailAddress",
                 "hashed": False, "identityHash": email}
            ],
            "achievement": {
                "id": f"urn:uuid:{uuid.uuid4()}",
                "type": ["Achievement"],
                "name": name,
                "description": "Designs segregated cycle lanes and junctions.",
                "criteria": {"narrative": "Passed the practical design assessment."},
            },
        },
    }  # fmt: skip
    claims = {"iss": issuer_id, "sub": f"mailto:{email}", "nbf": now - 60, "vc": credential}
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": f"{issuer_id}#key-1"})


async def _token(client: httpx.AsyncClient, email: str, password: str) -> str:
    response = await client.post("/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def _wait_for(predicate: Any, *, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if await predicate():
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"condition not met within {timeout}s")


async def test_register_build_profile_with_badge_export_and_erase(suite: Suite) -> None:
    admin_password = "admin-password-for-e2e"
    bootstrap = json.loads(
        run_module(
            "convene_gateway.bootstrap",
            "--dsn", suite.cluster.dsn(suite.database, role="convene_gateway"),
            "--admin-email", "admin@e2e.example", "--admin-password", admin_password,
            "--organisation", "E2E Council", "--print-api-key",
        )
    )  # fmt: skip
    assert bootstrap["api_key"]
    email, password = "ada@e2e.example", "a long enough password"
    async with httpx.AsyncClient(base_url=suite.url("gateway"), timeout=30) as client:
        admin = {
            "Authorization": f"Bearer {await _token(client, 'admin@e2e.example', admin_password)}"
        }

        # The admin trusts a badge issuer whose key we hold.
        key, jwk = _issuer_key()
        issuer_id = "https://academy.e2e.example/issuer"
        trusted = await client.post(
            "/v1/admin/badge-issuers",
            headers=admin,
            json={"id": issuer_id, "name": "Cycling Academy", "public_key_jwk": jwk},
        )
        assert trusted.status_code == 201, trusted.text

        registered = await client.post(
            "/v1/citizens", json={"email": email, "password": password, "display_name": "Ada"}
        )
        assert registered.status_code == 201, registered.text
        citizen_id = registered.json()["id"]
        await verify_from_outbox(
            client, suite.cluster.dsn(suite.database, role="convene_matcher"), email, password
        )
        auth = {"Authorization": f"Bearer {await _token(client, email, password)}"}

        patched = await client.patch(
            "/v1/me",
            headers=auth,
            json={
                "place": {"authority_code": "E08000003", "lat": 53.48, "lon": -2.24},
                "languages": ["en", "cy"],
                "consent": {"matching": True, "contact": False},
                "availability": {"max_invitations_per_month": 3, "hours_per_month": 5},
            },
        )
        assert patched.status_code == 200, patched.text
        skill = await client.post(
            "/v1/me/skills", headers=auth, json={"label": "traffic engineering", "level": "can_do"}
        )
        assert skill.status_code == 201, skill.text
        role = await client.post("/v1/me/roles", headers=auth, json={"role": "cyclist"})
        assert role.status_code == 201, role.text
        badge = await client.post(
            "/v1/me/badges",
            headers=auth,
            json={"credential": _ob3_credential(key, issuer_id=issuer_id, email=email,
                                                 name="Cycle lane design")},
        )  # fmt: skip
        assert badge.status_code == 201, badge.text
        assert badge.json()["verified"] is True, badge.json()

        me = (await client.get("/v1/me", headers=auth)).json()
        assert me["languages"] == ["en", "cy"]
        assert [s["label"] for s in me["skills"]] == ["traffic engineering"]

        # The change reaches the matcher's index through the feed.
        async with httpx.AsyncClient(
            base_url=suite.url("matcher"),
            headers={"X-Internal-Token": suite.internal_token},
            timeout=10,
        ) as matcher:
            feed = await client.get("/v1/admin/changes", headers=admin, params={"after": 0})
            assert feed.status_code == 200, feed.text
            ours = [c for c in feed.json()["items"] if c["citizen_id"] == citizen_id]
            assert len(ours) >= 5  # created, patched, skill, role, badge
            sequences = [c["seq"] for c in ours]
            assert sequences == sorted(sequences)
            assert len(set(sequences)) == len(sequences)
            last_seq = sequences[-1]

            async def matcher_caught_up() -> bool:
                status = (await matcher.get("/v1/index/status")).json()
                return int(status["last_seq"]) >= last_seq

            await _wait_for(matcher_caught_up, timeout=10)

            exported = await client.get("/v1/me/export", headers=auth)
            assert exported.status_code == 200
            assert email in exported.text
            assert "Cycle lane design" in exported.text

            erased = await client.delete("/v1/me", headers=auth)
            assert erased.status_code == 204, erased.text
            assert (await client.get("/v1/me", headers=auth)).status_code == 401

            feed = await client.get("/v1/admin/changes", headers=admin, params={"after": last_seq})
            erase = [c for c in feed.json()["items"] if c["citizen_id"] == citizen_id]
            assert [c["kind"] for c in erase] == ["erase"]
            assert erase[0]["seq"] > last_seq

            async def matcher_forgot() -> bool:
                status = (await matcher.get("/v1/index/status")).json()
                return int(status["last_seq"]) >= erase[0]["seq"]

            await _wait_for(matcher_forgot, timeout=10)
            again = await client.post(
                "/v1/auth/token", data={"username": email, "password": password}
            )
            assert again.status_code == 401
