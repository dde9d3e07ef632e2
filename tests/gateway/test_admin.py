"""Admin routes that forward to profiles: curated roles, badge issuers, the change feed."""

from __future__ import annotations

from tests.gateway.badges import Issuer
from tests.gateway.conftest import Gateway


async def test_curated_roles_through_the_gateway(
    gateway: Gateway, admin_headers: dict[str, str]
) -> None:
    created = await gateway.client.post(
        "/v1/admin/roles",
        headers=admin_headers,
        json={
            "slug": "lollipop-person",
            "label": "School crossing patrol",
            "description": "Sees every school run",
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["slug"] == "lollipop-person"
    listed = await gateway.client.get("/v1/admin/roles", headers=admin_headers)
    assert listed.status_code == 200
    assert "lollipop-person" in [item["slug"] for item in listed.json()["items"]]
    invalid = await gateway.client.post(
        "/v1/admin/roles", headers=admin_headers, json={"slug": "Not A Slug", "label": "x"}
    )
    assert invalid.status_code == 422

    # A citizen choosing the curated slug gets the curated label.
    _, citizen = await gateway.citizen()
    role = await gateway.client.post(
        "/v1/me/roles", headers=citizen, json={"role": "lollipop-person"}
    )
    assert role.status_code == 201, role.text
    assert role.json()["curated"] is True


async def test_trusted_issuer_makes_a_badge_verifiable(
    gateway: Gateway, admin_headers: dict[str, str]
) -> None:
    issuer = Issuer()
    trusted = await gateway.client.post(
        "/v1/admin/badge-issuers",
        headers=admin_headers,
        json={"id": issuer.id, "name": "Example Badges", "public_key_jwk": issuer.public_jwk},
    )
    assert trusted.status_code == 201, trusted.text
    listed = await gateway.client.get("/v1/admin/badge-issuers", headers=admin_headers)
    assert [item["id"] for item in listed.json()["items"]] == [issuer.id]

    created, citizen = await gateway.citizen()
    badge = await gateway.client.post(
        "/v1/me/badges",
        headers=citizen,
        json={"credential": issuer.credential(email=created["email"])},
    )
    assert badge.status_code == 201, badge.text
    assert badge.json()["verified"] is True, badge.json()


async def test_change_feed_is_visible_to_admins_only(
    gateway: Gateway, admin_headers: dict[str, str]
) -> None:
    created, citizen = await gateway.citizen()
    feed = await gateway.client.get(
        "/v1/admin/changes", params={"after": 0, "limit": 10}, headers=admin_headers
    )
    assert feed.status_code == 200, feed.text
    body = feed.json()
    assert created["id"] in [item["citizen_id"] for item in body["items"]]
    assert created["email"] not in feed.text
    last_seq = body["last_seq"]
    later = await gateway.client.get(
        "/v1/admin/changes", params={"after": last_seq}, headers=admin_headers
    )
    assert later.json()["items"] == []
    assert (await gateway.client.get("/v1/admin/changes", headers=citizen)).status_code == 403
    bad = await gateway.client.get("/v1/admin/changes", params={"limit": 0}, headers=admin_headers)
    assert bad.status_code == 422
