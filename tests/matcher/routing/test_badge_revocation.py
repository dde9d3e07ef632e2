"""A badge its issuer revokes after import loses its verified bonus in routing: profiles'
re-check flips it, the change feed carries it, the matcher's adjustment goes to 0."""

from __future__ import annotations

import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from convene_matcher.feed.consumer import FeedConsumer
from convene_matcher.routing.dependencies import DEVELOPMENT_REF_SECRET
from convene_matcher.routing.refs import candidate_ref
from convene_matcher.scoring import MatchingConfig
from convene_profiles.config import ProfilesSettings
from convene_profiles.main import create_app as create_profiles_app
from tests.conftest import FreshDatabase
from tests.matcher.routing.test_routing_inputs import match, post_call
from tests.profiles.test_badges import DocumentServer, ec_key, register, vc_payload


@pytest.fixture
def docs() -> Iterator[DocumentServer]:
    """The issuer's web server, serving its revocation list."""
    server = DocumentServer()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


@pytest.fixture
async def profiles_app(database: FreshDatabase) -> AsyncIterator[FastAPI]:
    settings = ProfilesSettings(
        environment="test",
        database_url=database.dsn("profiles"),
        database_pool_max=4,
        erasure_salt="test-salt",
        badge_fetch_allowed_hosts=["127.0.0.1"],
        badge_recheck_hours=0,
        badge_recheck_interval_seconds=0,
    )
    app = create_profiles_app(settings)
    async with app.router.lifespan_context(app):
        yield app


async def test_revoked_badge_loses_its_verified_bonus(
    matcher_app: FastAPI,
    matcher: httpx.AsyncClient,
    profiles: httpx.AsyncClient,
    docs: DocumentServer,
) -> None:
    citizen_id = str(uuid.uuid4())
    email = "ada@example.org"
    created = await profiles.post(
        "/v1/citizens", json={"id": citizen_id, "email": email, "display_name": "Ada"}
    )
    assert created.status_code == 201, created.text
    consent = {"consent": {"matching": True, "contact": True}}
    assert (await profiles.patch(f"/v1/citizens/{citizen_id}", json=consent)).status_code == 200
    skill = {"label": "cycle lane design", "level": "can_do"}
    assert (await profiles.post(f"/v1/citizens/{citizen_id}/skills", json=skill)).status_code == 201

    private, jwk = ec_key()
    await register(profiles, jwk)
    docs.documents["/revocations"] = {"revokedCredentials": []}
    payload = vc_payload(
        email,
        credential_id="urn:uuid:ada-lanes",
        credentialStatus={"id": docs.url("/revocations"), "type": "1EdTechRevocationList"},
    )
    payload["vc"]["credentialSubject"]["achievement"]["name"] = "Cycle lane design"
    token = jwt.encode(payload, private, algorithm="ES256")
    badge = await profiles.post(f"/v1/citizens/{citizen_id}/badges", json={"credential": token})
    assert badge.json()["verified"] is True, badge.text

    feed: FeedConsumer = matcher_app.state.feed
    await feed.catch_up()

    def bonus(result: dict[str, Any], call_id: str) -> float:
        wanted = candidate_ref(
            secret=DEVELOPMENT_REF_SECRET,
            call_id=uuid.UUID(call_id),
            citizen_id=citizen_id,
        )
        (found,) = [c for c in result["candidates"] if c["ref"] == wanted]
        value: float = found["adjustments"]["verified_badges"]
        return value

    call_id = await post_call(matcher)
    assert bonus(await match(matcher, call_id), call_id) == MatchingConfig().verified_badge_bonus

    # The issuer revokes it; profiles' re-check finds it; the matcher reads the feed.
    docs.documents["/revocations"]["revokedCredentials"].append({"id": "urn:uuid:ada-lanes"})
    recheck = await profiles.post("/v1/badges/recheck")
    assert recheck.json() == {"checked": 1, "revoked": 1}
    assert await feed.catch_up() >= 1
    call_id = await post_call(matcher)
    assert bonus(await match(matcher, call_id), call_id) == 0
