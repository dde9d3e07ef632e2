"""Staff of public bodies through HTTP over the real profiles and matcher apps: an admin
invites a manager by email, the manager joins and invites an officer, the officer posts,
matches and invites, the manager reads the audit log and removes the officer, whose access
and refresh tokens stop working at once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.gateway.conftest import CallsGateway

PROBLEM = "application/problem+json"
STAFF_PASSWORD = "staff password 12345"


def call_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Protected bike lanes on Oxford Road",
        "description": "Segregated cycle lanes on Oxford Road: how do you cycle the route?",
        "skills": [{"label": "cycling infrastructure design"}],
        "hours": 3,
        "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "panel_size": 1,
    }
    body.update(overrides)
    return body


async def organisation(gw: CallsGateway, name: str | None = None) -> str:
    created = await gw.client.post(
        "/v1/admin/organisations",
        headers=gw.admin,
        json={"name": name or f"Council {uuid.uuid4().hex[:6]}", "kind": "council"},
    )
    assert created.status_code == 201, created.text
    organisation_id: str = created.json()["id"]
    return organisation_id


async def sign_in(gw: CallsGateway, email: str, password: str = STAFF_PASSWORD) -> dict[str, Any]:
    response = await gw.client.post(
        "/v1/auth/token", data={"username": email, "password": password}
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def join_by_email(gw: CallsGateway, email: str, name: str) -> dict[str, Any]:
    token = await gw.link_token(email, "/join")
    joined = await gw.client.post(
        "/v1/auth/join", json={"token": token, "password": STAFF_PASSWORD, "display_name": name}
    )
    assert joined.status_code == 201, joined.text
    body: dict[str, Any] = joined.json()
    return body


async def staff(
    gw: CallsGateway, organisation_id: str, *, role: str = "manager"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A member invited by the admin who joined and signed in: (joined, tokens)."""
    email = f"{role}-{uuid.uuid4().hex[:6]}@council.example"
    invited = await gw.client.post(
        f"/v1/admin/organisations/{organisation_id}/members",
        headers=gw.admin,
        json={"email": email, "role": role},
    )
    assert invited.status_code == 202, invited.text
    joined = await join_by_email(gw, email, f"A {role}")
    return joined, await sign_in(gw, email)


async def test_the_staff_journey_from_invitation_to_removal(calls_gateway: CallsGateway) -> None:
    gw = calls_gateway
    _, cyclist_headers = await gw.citizen(name="Cy Clist")
    await gw.client.patch(
        "/v1/me", headers=cyclist_headers, json={"consent": {"matching": True, "contact": True}}
    )
    await gw.client.post(
        "/v1/me/skills",
        headers=cyclist_headers,
        json={"label": "cycling infrastructure design", "level": "can_do"},
    )
    await gw.sync()
    council = await organisation(gw)

    # The admin invites the first manager; the email carries a /join link.
    manager_email = f"manager-{uuid.uuid4().hex[:6]}@council.example"
    invited = await gw.client.post(
        f"/v1/admin/organisations/{council}/members",
        headers=gw.admin,
        json={"email": manager_email, "role": "manager"},
    )
    assert invited.status_code == 202, invited.text
    (invitation_email,) = await gw.emails_to(manager_email)
    assert invitation_email["kind"] == "staff_invitation"
    assert "/join?token=" in invitation_email["html"]
    manager_joined = await join_by_email(gw, manager_email, "Mona Manager")
    assert manager_joined["role"] == "manager"
    assert manager_joined["organisation_id"] == council
    manager = bearer(await sign_in(gw, manager_email))

    # The manager invites an officer, who joins and signs in.
    officer_email = f"officer-{uuid.uuid4().hex[:6]}@council.example"
    sent = await gw.client.post(
        "/v1/organisation/members",
        headers=manager,
        json={"email": officer_email, "role": "officer"},
    )
    assert sent.status_code == 202, sent.text
    officer_joined = await join_by_email(gw, officer_email, "Otto Officer")
    officer_tokens = await sign_in(gw, officer_email)
    officer = bearer(officer_tokens)
    me = await gw.client.get("/v1/organisation", headers=officer)
    assert me.json()["role"] == "officer"

    members = await gw.client.get("/v1/organisation/members", headers=manager)
    assert members.status_code == 200
    listed = {m["email"]: m for m in members.json()["items"]}
    assert set(listed) == {manager_email, officer_email}
    assert set(listed[officer_email]) == {
        "account_id",
        "email",
        "display_name",
        "role",
        "joined_at",
    }
    assert listed[officer_email]["display_name"] == "Otto Officer"

    # The officer posts, matches and invites with the bearer token.
    call = await gw.client.post("/v1/calls", headers=officer, json=call_body())
    assert call.status_code == 201, call.text
    call_id = call.json()["id"]
    assert call.json()["created_by"] == f"account:{officer_joined['account_id']}"
    matched = await gw.client.post(f"/v1/calls/{call_id}/match", headers=officer)
    assert matched.status_code == 200, matched.text
    assert len(matched.json()["panel"]) == 1
    invitations = await gw.client.post(f"/v1/calls/{call_id}/invitations", headers=officer)
    assert invitations.status_code == 201, invitations.text
    assert len(invitations.json()["items"]) == 1
    # The manager sees the organisation's calls too.
    assert (await gw.client.get(f"/v1/calls/{call_id}", headers=manager)).status_code == 200

    # An officer manages neither members nor keys.
    for method, path, payload in (
        ("GET", "/v1/organisation/members", None),
        ("POST", "/v1/organisation/members", {"email": "x@council.example", "role": "manager"}),
        ("DELETE", f"/v1/organisation/members/{manager_joined['account_id']}", None),
        ("POST", "/v1/organisation/api-keys", {"name": "mine"}),
        ("GET", "/v1/organisation/api-keys", None),
        ("GET", "/v1/organisation/audit", None),
    ):
        refused = await gw.client.request(method, path, headers=officer, json=payload)
        assert refused.status_code == 403, (method, path, refused.text)

    # The manager removes the officer: both of the officer's tokens stop at once.
    removed = await gw.client.delete(
        f"/v1/organisation/members/{officer_joined['account_id']}", headers=manager
    )
    assert removed.status_code == 204, removed.text
    assert (await gw.client.get(f"/v1/calls/{call_id}", headers=officer)).status_code == 401
    refreshed = await gw.client.post(
        "/v1/auth/refresh", data={"refresh_token": officer_tokens["refresh_token"]}
    )
    assert refreshed.status_code == 401
    # Signing in again gives a staff account with no organisation: nothing to act for.
    again = bearer(await sign_in(gw, officer_email))
    assert (await gw.client.get(f"/v1/calls/{call_id}", headers=again)).status_code in (401, 403)

    # The manager's audit log has it all, with who did it.
    audit = await gw.client.get("/v1/organisation/audit", headers=manager)
    assert audit.status_code == 200, audit.text
    entries = audit.json()["items"]
    actions = [entry["action"] for entry in entries]
    for action in ("member.invited", "member.joined", "member.removed"):
        assert action in actions, actions
    removal = next(e for e in entries if e["action"] == "member.removed")
    assert removal["actor_id"] == manager_joined["account_id"]
    assert removal["object_id"] == officer_joined["account_id"]
    assert officer_email not in audit.text
    assert "next_cursor" in audit.json()


async def test_the_last_manager_cannot_be_removed_or_demoted(calls_gateway: CallsGateway) -> None:
    gw = calls_gateway
    council = await organisation(gw)
    joined, tokens = await staff(gw, council)
    me = joined["account_id"]
    for response in (
        await gw.client.delete(f"/v1/organisation/members/{me}", headers=bearer(tokens)),
        await gw.client.patch(
            f"/v1/organisation/members/{me}", headers=bearer(tokens), json={"role": "officer"}
        ),
    ):
        assert response.status_code == 409, response.text
        assert response.headers["content-type"] == PROBLEM
    # With a second manager, the first may step down.
    await staff(gw, council)
    demoted = await gw.client.patch(
        f"/v1/organisation/members/{me}", headers=bearer(tokens), json={"role": "officer"}
    )
    assert demoted.status_code == 200, demoted.text
    # The demotion applies to the live session at once.
    after = await gw.client.get("/v1/organisation/members", headers=bearer(tokens))
    assert after.status_code == 403


async def test_join_tokens_are_single_use_and_refusals_look_alike(
    calls_gateway: CallsGateway,
) -> None:
    gw = calls_gateway
    council = await organisation(gw)
    email = f"once-{uuid.uuid4().hex[:6]}@council.example"
    await gw.client.post(
        f"/v1/admin/organisations/{council}/members",
        headers=gw.admin,
        json={"email": email, "role": "officer"},
    )
    token = await gw.link_token(email, "/join")
    body = {"token": token, "password": STAFF_PASSWORD, "display_name": "Once"}
    assert (await gw.client.post("/v1/auth/join", json=body)).status_code == 201
    reused = await gw.client.post("/v1/auth/join", json=body)
    forged = await gw.client.post("/v1/auth/join", json={**body, "token": "cvt_" + "q" * 43})
    assert reused.status_code == forged.status_code == 400

    def comparable(response: httpx.Response) -> dict[str, Any]:
        return {k: v for k, v in response.json().items() if k in ("type", "title", "detail")}

    assert comparable(reused) == comparable(forged)


async def test_another_organisations_officer_gets_404_on_a_call(
    calls_gateway: CallsGateway,
) -> None:
    gw = calls_gateway
    ours, theirs = await organisation(gw), await organisation(gw)
    _, our_officer = await staff(gw, ours, role="officer")
    _, their_officer = await staff(gw, theirs, role="officer")
    call = await gw.client.post("/v1/calls", headers=bearer(our_officer), json=call_body())
    assert call.status_code == 201, call.text
    call_id = call.json()["id"]
    for method, path in (
        ("GET", f"/v1/calls/{call_id}"),
        ("POST", f"/v1/calls/{call_id}/match"),
        ("GET", f"/v1/calls/{call_id}/invitations"),
    ):
        response = await gw.client.request(method, path, headers=bearer(their_officer))
        assert response.status_code == 404, (method, path, response.text)


async def test_a_manager_runs_the_organisations_api_keys(calls_gateway: CallsGateway) -> None:
    gw = calls_gateway
    council, other = await organisation(gw), await organisation(gw)
    _, tokens = await staff(gw, council)
    manager = bearer(tokens)
    made = await gw.client.post(
        "/v1/organisation/api-keys", headers=manager, json={"name": "case system"}
    )
    assert made.status_code == 201, made.text
    key = {"X-API-Key": made.json()["api_key"]}
    assert (await gw.client.get("/v1/calls", headers=key)).status_code == 200
    listed = await gw.client.get("/v1/organisation/api-keys", headers=manager)
    assert [k["id"] for k in listed.json()["items"]] == [made.json()["id"]]
    # Another organisation's key is not ours to revoke: 404, and it keeps working.
    other_key = await gw.client.post(
        f"/v1/admin/organisations/{other}/api-keys", headers=gw.admin, json={"name": "theirs"}
    )
    foreign = await gw.client.delete(
        f"/v1/organisation/api-keys/{other_key.json()['id']}", headers=manager
    )
    assert foreign.status_code == 404
    assert (
        await gw.client.get("/v1/calls", headers={"X-API-Key": other_key.json()["api_key"]})
    ).status_code == 200
    revoked = await gw.client.delete(
        f"/v1/organisation/api-keys/{made.json()['id']}", headers=manager
    )
    assert revoked.status_code == 200
    assert (await gw.client.get("/v1/calls", headers=key)).status_code == 401
    actions = [
        e["action"]
        for e in (await gw.client.get("/v1/organisation/audit", headers=manager)).json()["items"]
    ]
    assert "api_key.created" in actions
    assert "api_key.revoked" in actions
