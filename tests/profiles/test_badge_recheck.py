"""Revocation after import: the re-check finds a badge its issuer has since revoked."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import jwt
import pytest

from convene_profiles.config import ProfilesSettings
from convene_profiles.main import create_app
from tests.profiles.conftest import CreateCitizen, MakeSettings
from tests.profiles.test_badges import (
    DocumentServer,
    ec_key,
    ob2_documents,
    register,
    vc_payload,
)


@pytest.fixture
def docs() -> Iterator[DocumentServer]:
    """The issuer's web server (hosted assertions, revocation lists), as in test_badges."""
    server = DocumentServer()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


@pytest.fixture
def settings(make_settings: MakeSettings) -> ProfilesSettings:
    # Every verified badge is due for a re-check at once; no background task.
    return make_settings(badge_recheck_hours=0, badge_recheck_interval_seconds=0)


async def import_ob3_with_status_list(
    client: httpx.AsyncClient, citizen: dict[str, Any], docs: DocumentServer
) -> dict[str, Any]:
    private, jwk = ec_key()
    await register(client, jwk)
    docs.documents["/revocations"] = {"revokedCredentials": [{"id": "urn:uuid:someone-else"}]}
    status = {"id": docs.url("/revocations"), "type": "1EdTechRevocationList"}
    token = jwt.encode(
        vc_payload("ada@example.org", credential_id="urn:uuid:ada-1", credentialStatus=status),
        private,
        algorithm="ES256",
    )
    response = await client.post(f"/v1/citizens/{citizen['id']}/badges", json={"credential": token})
    assert response.status_code == 201, response.text
    badge: dict[str, Any] = response.json()
    assert badge["verified"] is True, badge["verification"]
    return badge


async def feed(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await client.get("/v1/changes")).json()["items"]
    return items


async def test_badge_revoked_after_import_becomes_unverified(
    client: httpx.AsyncClient,
    create_citizen: CreateCitizen,
    docs: DocumentServer,
    db: asyncpg.Connection[Any],
) -> None:
    citizen = await create_citizen(email="ada@example.org")
    badge = await import_ob3_with_status_list(client, citizen, docs)
    # Still valid at the issuer: checked, nothing changes, nothing goes on the feed.
    before = await feed(client)
    response = await client.post("/v1/badges/recheck")
    assert response.status_code == 200, response.text
    assert response.json() == {"checked": 1, "revoked": 0}
    assert len(await feed(client)) == len(before)

    # The issuer revokes it.
    docs.documents["/revocations"]["revokedCredentials"].append({"id": "urn:uuid:ada-1"})
    assert (await client.post("/v1/badges/recheck")).json() == {"checked": 1, "revoked": 1}

    listed = (await client.get(f"/v1/citizens/{citizen['id']}/badges")).json()["items"]
    assert [(b["id"], b["verified"]) for b in listed] == [(badge["id"], False)]
    assert listed[0]["verification"]["checks"]["revocation"] is False
    assert "the issuer has revoked this badge" in listed[0]["verification"]["errors"]
    row = await db.fetchrow("SELECT revoked_at, verified FROM badge WHERE id = $1", badge["id"])
    assert row is not None
    assert row["revoked_at"] is not None
    assert row["verified"] is False
    # The change feed carries it, so the matcher drops the verified bonus.
    changes = await feed(client)
    assert len(changes) == len(before) + 1
    assert changes[-1]["citizen_id"] == citizen["id"]
    assert changes[-1]["snapshot"]["badges"][0]["verified"] is False
    # A revoked badge is not re-checked again.
    assert (await client.post("/v1/badges/recheck")).json() == {"checked": 0, "revoked": 0}


async def test_unreachable_revocation_list_changes_nothing(
    client: httpx.AsyncClient,
    create_citizen: CreateCitizen,
    docs: DocumentServer,
    db: asyncpg.Connection[Any],
) -> None:
    citizen = await create_citizen(email="ada@example.org")
    badge = await import_ob3_with_status_list(client, citizen, docs)
    last_checked = await db.fetchval("SELECT last_checked_at FROM badge WHERE id = $1", badge["id"])
    before = await feed(client)
    revocations = docs.documents.pop("/revocations")  # the list now answers 404
    assert (await client.post("/v1/badges/recheck")).json() == {"checked": 0, "revoked": 0}
    listed = (await client.get(f"/v1/citizens/{citizen['id']}/badges")).json()["items"]
    assert listed[0]["verified"] is True
    assert listed[0]["verification"] == badge["verification"]
    assert len(await feed(client)) == len(before)
    row = await db.fetchrow(
        "SELECT last_checked_at, revoked_at FROM badge WHERE id = $1", badge["id"]
    )
    assert row is not None
    assert row["revoked_at"] is None
    assert row["last_checked_at"] == last_checked  # still due: retried next time
    # Reachable again, and revoked meanwhile: the next run finds it.
    revocations["revokedCredentials"].append({"id": "urn:uuid:ada-1"})
    docs.documents["/revocations"] = revocations
    assert (await client.post("/v1/badges/recheck")).json() == {"checked": 1, "revoked": 1}


async def test_ob2_hosted_assertion_revoked_after_import(
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
    assert (await client.post("/v1/badges/recheck")).json() == {"checked": 1, "revoked": 0}
    docs.documents["/assertion"] = {**assertion, "revoked": True, "revocationReason": "error"}
    assert (await client.post("/v1/badges/recheck")).json() == {"checked": 1, "revoked": 1}
    listed = (await client.get(base)).json()["items"]
    assert listed[0]["verified"] is False
    assert "the issuer has revoked this badge: error" in listed[0]["verification"]["errors"]


@asynccontextmanager
async def profiles_client(settings: ProfilesSettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http,
    ):
        yield http


async def create_ada(client: httpx.AsyncClient) -> dict[str, Any]:
    body = {"id": str(uuid.uuid4()), "email": "ada@example.org", "display_name": "Ada"}
    response = await client.post("/v1/citizens", json=body)
    assert response.status_code == 201, response.text
    citizen: dict[str, Any] = response.json()
    return citizen


async def test_recheck_waits_for_badge_recheck_hours(
    make_settings: MakeSettings, docs: DocumentServer
) -> None:
    settings = make_settings(badge_recheck_hours=24, badge_recheck_interval_seconds=0)
    async with profiles_client(settings) as client:
        citizen = await create_ada(client)
        await import_ob3_with_status_list(client, citizen, docs)
        docs.documents["/revocations"]["revokedCredentials"].append({"id": "urn:uuid:ada-1"})
        # Checked at import, under 24 hours ago: not due yet.
        assert (await client.post("/v1/badges/recheck")).json() == {"checked": 0, "revoked": 0}
        items = (await client.get(f"/v1/citizens/{citizen['id']}/badges")).json()["items"]
        assert items[0]["verified"] is True


async def test_background_task_rechecks_on_its_interval(
    make_settings: MakeSettings, docs: DocumentServer
) -> None:
    settings = make_settings(badge_recheck_hours=0, badge_recheck_interval_seconds=0.2)
    async with profiles_client(settings) as client:
        citizen = await create_ada(client)
        await import_ob3_with_status_list(client, citizen, docs)
        docs.documents["/revocations"]["revokedCredentials"].append({"id": "urn:uuid:ada-1"})
        url = f"/v1/citizens/{citizen['id']}/badges"
        for _ in range(50):
            items = (await client.get(url)).json()["items"]
            if not items[0]["verified"]:
                break
            await asyncio.sleep(0.1)
        assert items[0]["verified"] is False
        assert (await feed(client))[-1]["snapshot"]["badges"][0]["verified"] is False
