"""Imports of past consultation responses in profiles: the job, bad rows by line, idempotency,
sealing for addresses nobody holds, claiming on verification, confirmation, the feed, erasure,
export and the retention purge."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from cryptography.exceptions import InvalidTag
from fastapi import FastAPI

from convene_profiles.config import ProfilesSettings
from convene_profiles.imports.rows import Rejection, ResponseRow, read_rows
from convene_profiles.imports.sealing import Sealer
from convene_profiles.imports.service import purge_unclaimed


def response(
    external_id: str, email: str, *, source: str = "Example Council", **extra: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "source": source,
        "external_id": external_id,
        "respondent_email": email,
        "responded_at": "2023-05-04",
        "question": "What should change on Oxford Road?",
        "response_text": "The bus lane should run all day; cyclists need a kerbed lane.",
    }
    row.update(extra)
    return row


def jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


async def run_import(
    client: httpx.AsyncClient, app: FastAPI, content: bytes, *, file_format: str = "jsonl"
) -> dict[str, Any]:
    accepted = await client.post(
        "/v1/imports",
        params={"format": file_format, "requested_by": "account:test"},
        content=content,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert accepted.status_code == 202, accepted.text
    assert set(accepted.json()) == {"id", "status", "progress_percent"}
    await app.state.import_runner.wait_idle()
    report = await client.get(f"/v1/imports/{accepted.json()['id']}")
    assert report.status_code == 200, report.text
    body: dict[str, Any] = report.json()
    return body


async def new_citizen(client: httpx.AsyncClient, email: str, *, verified: bool) -> str:
    citizen_id = str(uuid.uuid4())
    created = await client.post(
        "/v1/citizens",
        json={"id": citizen_id, "email": email, "display_name": "Ada", "email_verified": verified},
    )
    assert created.status_code == 201, created.text
    return citizen_id


async def latest_snapshot(client: httpx.AsyncClient, citizen_id: str) -> dict[str, Any]:
    changes = (await client.get("/v1/changes", params={"limit": 1000})).json()["items"]
    mine = [c for c in changes if c["citizen_id"] == citizen_id]
    snapshot: dict[str, Any] = mine[-1]["snapshot"]
    return snapshot


def test_bad_rows_are_reported_by_line_with_reasons() -> None:
    lines = [
        json.dumps(response("ok-1", "a@example.org")),
        "",
        json.dumps({k: v for k, v in response("x", "b@example.org").items() if k != "question"}),
        json.dumps(response("bad-email", "not-an-address")),
        json.dumps(response("bad-date", "c@example.org", responded_at="04/05/2023")),
        json.dumps(response("bad-rating", "d@example.org", rating=6)),
        json.dumps(response("long", "e@example.org", response_text="x" * 10_001)),
        json.dumps(response("nul", "f@example.org", question="a\x00b")),
        "{not json",
        json.dumps(response("ok-1", "a@example.org")),
        json.dumps(response("ok-2", "g@example.org", rating="4")),
    ]
    results = list(read_rows("\n".join(lines).encode(), file_format="jsonl"))
    good = [r for r in results if isinstance(r, ResponseRow)]
    bad = {r.line: r.reason for r in results if isinstance(r, Rejection)}
    assert [(r.line, r.external_id, r.rating) for r in good] == [(1, "ok-1", None), (11, "ok-2", 4)]
    assert bad[3] == "missing field(s): question"
    assert bad[4].startswith("respondent_email is not a valid address")
    assert bad[5].startswith("responded_at is not an ISO 8601")
    assert bad[6] == "rating must be an integer from 1 to 5"
    assert bad[7] == "response_text is longer than 10000 characters (10001)"
    assert bad[8] == "question contains a NUL character"
    assert bad[9].startswith("not a JSON object")
    assert bad[10] == "duplicate of line 1 (same source and external_id)"


def test_csv_lines_count_from_the_header_and_multiline_records() -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[*response("1", "a@example.org"), "rating"])
    writer.writeheader()
    writer.writerow(response("1", "a@example.org", response_text="two\nlines", rating=""))
    writer.writerow(response("2", "a@example.org", rating="0"))
    results = list(read_rows(buffer.getvalue().encode(), file_format="csv"))
    assert isinstance(results[0], ResponseRow)
    assert results[0].line == 2
    assert results[0].response_text == "two\nlines"
    assert isinstance(results[1], Rejection)
    assert results[1].line == 4


def test_sealed_text_opens_only_with_the_address_and_row() -> None:
    sealer = Sealer("secret")
    text = "The bus lane should run all day."
    sealed = sealer.seal("a@example.org", source="S", external_id="1", question="Q", text=text)
    assert b"bus lane" not in sealed
    assert sealer.open_sealed("a@example.org", source="S", external_id="1", sealed=sealed) == (
        "Q",
        text,
    )
    for address, external_id in (("b@example.org", "1"), ("a@example.org", "2")):
        with pytest.raises(InvalidTag):
            sealer.open_sealed(address, source="S", external_id=external_id, sealed=sealed)
    assert sealer.email_hash("a@example.org") != Sealer("other").email_hash("a@example.org")


async def test_import_job_pending_confirmation_and_evidence(
    client: httpx.AsyncClient, app: FastAPI, db: asyncpg.Connection[Any]
) -> None:
    citizen_id = await new_citizen(client, "Known@Example.org", verified=True)
    rows = [
        response("r1", "known@example.org", rating=5),
        response("r2", "KNOWN@example.org"),
        response("r3", "stranger@example.org"),
        response("r4", "bad-address"),
    ]
    report = await run_import(client, app, jsonl(rows))
    assert report["status"] == "succeeded"
    assert report["progress_percent"] == 100
    assert (report["rows"], report["imported"], report["pending_confirmation"]) == (4, 3, 2)
    assert report["unclaimed"] == 1
    assert [r["line"] for r in report["rejected"]] == [4]

    # The address is never stored; an unclaimed row's text is sealed.
    stored = await db.fetch("SELECT * FROM past_response ORDER BY external_id")
    assert all("@" not in r["email_hash"] for r in stored)
    stranger = stored[2]
    assert stranger["status"] == "unclaimed"
    assert stranger["response_text"] is None
    assert stranger["citizen_id"] is None
    assert b"bus lane" not in bytes(stranger["sealed"])

    # Pending rows are not evidence: the feed has none of them.
    mine = (await client.get(f"/v1/citizens/{citizen_id}/imports")).json()
    assert mine["pending_count"] == 2
    assert mine["pending_by_source"] == [{"source": "Example Council", "count": 2}]
    assert (await latest_snapshot(client, citizen_id))["past_responses"] == []

    confirmed = await client.post(f"/v1/citizens/{citizen_id}/imports/confirm", json={})
    assert confirmed.json() == {"changed": 2}
    snapshot = await latest_snapshot(client, citizen_id)
    assert sorted(r["rating"] or 0 for r in snapshot["past_responses"]) == [0, 5]
    assert "kerbed lane" in snapshot["past_responses"][0]["text"]

    # Idempotent: the same file again stores nothing new.
    again = await run_import(client, app, jsonl(rows))
    assert (again["imported"], again["duplicates"]) == (0, 3)

    exported = (await client.get(f"/v1/citizens/{citizen_id}/export")).json()
    assert {r["status"] for r in exported["past_responses"]} == {"confirmed"}

    assert (await client.delete(f"/v1/citizens/{citizen_id}")).status_code == 204
    left = await db.fetchval("SELECT count(*) FROM past_response WHERE status <> 'unclaimed'")
    assert left == 0


async def test_unclaimed_rows_wait_for_a_verified_owner_then_decline_drops_text(
    client: httpx.AsyncClient, app: FastAPI, db: asyncpg.Connection[Any]
) -> None:
    await run_import(client, app, jsonl([response("u1", "later@example.org", source="Leeds")]))
    # Registered but unverified: still sealed.
    citizen_id = await new_citizen(client, "later@example.org", verified=False)
    assert (await client.get(f"/v1/citizens/{citizen_id}/imports")).json()["pending_count"] == 0
    verified = await client.put(
        f"/v1/citizens/{citizen_id}/email-verification", json={"verified": True}
    )
    assert verified.status_code == 204, verified.text
    mine = (await client.get(f"/v1/citizens/{citizen_id}/imports")).json()
    assert mine["pending_by_source"] == [{"source": "Leeds", "count": 1}]
    assert "kerbed lane" in mine["items"][0]["response_text"]

    declined = await client.post(
        f"/v1/citizens/{citizen_id}/imports/decline", json={"sources": ["Leeds"]}
    )
    assert declined.json() == {"changed": 1}
    row = await db.fetchrow("SELECT status, response_text, question FROM past_response")
    assert row is not None
    assert (row["status"], row["response_text"], row["question"]) == ("declined", None, None)
    assert (await latest_snapshot(client, citizen_id))["past_responses"] == []


async def test_purge_deletes_only_unclaimed_rows_past_retention(
    client: httpx.AsyncClient, app: FastAPI, settings: ProfilesSettings, db: asyncpg.Connection[Any]
) -> None:
    citizen_id = await new_citizen(client, "held@example.org", verified=True)
    await run_import(
        client, app, jsonl([response("p1", "held@example.org"), response("p2", "x@example.org")])
    )
    pool = app.state.pool
    assert await purge_unclaimed(pool, settings=settings) == 0
    later = datetime.now(UTC) + timedelta(days=settings.imports_unclaimed_retention_days + 1)
    assert await purge_unclaimed(pool, settings=settings, now=later) == 1
    left = await db.fetch("SELECT external_id, citizen_id FROM past_response")
    assert [(r["external_id"], str(r["citizen_id"])) for r in left] == [("p1", citizen_id)]


async def test_failed_file_and_size_limit(client: httpx.AsyncClient, app: FastAPI) -> None:
    # A file no row of which could be read is refused at upload (schemathesis sent "null"
    # as JSON Lines); bad rows after a readable start are reported by line.
    for content, file_format, reason in [
        (b"source,external_id\nS,1\n", "csv", "lacks the column(s)"),
        (b"null\n", "jsonl", "not a JSON object"),
        (b"true", "jsonl", "not a JSON object"),
        (b"source,external_id", "jsonl", "not JSON"),
    ]:
        refused = await client.post(
            "/v1/imports",
            params={"format": file_format, "requested_by": "account:test"},
            content=content,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert refused.status_code == 422, refused.text
        assert reason in refused.json()["detail"]
    limit = app.state.settings.imports_max_file_bytes
    too_big = await client.post(
        "/v1/imports",
        params={"format": "jsonl", "requested_by": "account:test"},
        content=b"x" * (limit + 1),
    )
    assert too_big.status_code == 413
