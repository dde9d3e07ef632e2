"""The audit log: append-only for the gateway's own database role, filters and keyset
pagination, and who may read what."""

from __future__ import annotations

import asyncpg
import pytest

from tests.conftest import FreshDatabase
from tests.gateway.conftest import Gateway


async def test_the_gateway_role_cannot_update_or_delete_audit_entries(
    database: FreshDatabase, gateway: Gateway, admin_headers: dict[str, str]
) -> None:
    read = await gateway.client.get("/v1/admin/changes", headers=admin_headers)
    assert read.status_code == 200
    # The gateway's own role (the one the service and its migrations run as).
    connection = await asyncpg.connect(
        database.dsn("gateway"), server_settings={"search_path": "gateway"}
    )
    try:
        before = await connection.fetchval("SELECT count(*) FROM audit_entry")
        assert before >= 1
        for statement in (
            "UPDATE audit_entry SET action = 'x.y'",
            "DELETE FROM audit_entry",
            "TRUNCATE audit_entry",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute(statement)
        assert await connection.fetchval("SELECT count(*) FROM audit_entry") == before
    finally:
        await connection.close()


async def test_admin_reads_of_the_change_feed_are_audited_and_paginated(
    gateway: Gateway, admin_headers: dict[str, str]
) -> None:
    for after in range(5):
        assert (
            await gateway.client.get(
                "/v1/admin/changes", headers=admin_headers, params={"after": after}
            )
        ).status_code == 200
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"action": "change_feed.read", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = await gateway.client.get("/v1/admin/audit", headers=admin_headers, params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        seen += [entry["detail"]["after"] for entry in body["items"]]
        assert all(entry["actor_kind"] == "account" for entry in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [4, 3, 2, 1, 0]
    bad = await gateway.client.get(
        "/v1/admin/audit", headers=admin_headers, params={"cursor": "not-a-cursor"}
    )
    assert bad.status_code == 400


async def test_citizens_read_no_audit_log(gateway: Gateway) -> None:
    _, headers = await gateway.citizen()
    assert (await gateway.client.get("/v1/admin/audit", headers=headers)).status_code == 403
    assert (await gateway.client.get("/v1/organisation/audit", headers=headers)).status_code == 403
    assert (await gateway.client.get("/v1/organisation/audit")).status_code == 401


async def test_erasure_leaves_a_tombstone_entry_without_the_citizen_id(
    gateway: Gateway, admin_headers: dict[str, str]
) -> None:
    created, headers = await gateway.citizen()
    assert (await gateway.client.delete("/v1/me", headers=headers)).status_code == 204
    page = await gateway.client.get(
        "/v1/admin/audit", headers=admin_headers, params={"action": "citizen.erased"}
    )
    (entry,) = page.json()["items"]
    assert entry["object_type"] == "tombstone"
    assert created["id"] not in page.text
