"""Imports through the gateway over the real profiles and matcher apps: an admin's upload with
bad rows reported by line, the citizen's confirmation, and routing that does not change until
the citizen says yes (and does after); managers import for their own organisation only; a
citizen's Q&A answers upload becomes "answered on <site>" evidence."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.gateway.conftest import CallsGateway
from tests.gateway.test_members import bearer, organisation, staff

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BUS_LANE_TEXT = (
    "I ride the 86 bus along Oxford Road every morning. The bus lane should run all day, "
    "with the loading bays moved to side streets so buses are not held at the junctions."
)


def row(external_id: str, email: str, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "source": "Example Council",
        "external_id": external_id,
        "respondent_email": email,
        "responded_at": "2024-03-01T10:00:00Z",
        "question": "What do you think of the bus priority plans for Oxford Road?",
        "response_text": BUS_LANE_TEXT,
    }
    values.update(extra)
    return values


def jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


async def upload(
    g: CallsGateway, headers: dict[str, str], content: bytes, file_format: str = "jsonl"
) -> httpx.Response:
    return await g.client.post(
        "/v1/admin/imports",
        headers=headers,
        files={"file": ("responses.jsonl", content, "application/octet-stream")},
        data={"format": file_format},
    )


async def finished(g: CallsGateway, headers: dict[str, str], import_id: str) -> dict[str, Any]:
    for _ in range(200):
        report = await g.client.get(f"/v1/admin/imports/{import_id}", headers=headers)
        assert report.status_code == 200, report.text
        body: dict[str, Any] = report.json()
        if body["status"] in ("succeeded", "failed"):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError("the import did not finish")


def bus_call() -> dict[str, Any]:
    return {
        "title": "Views on the new bus lane on Oxford Road",
        "description": "Bus priority, loading bays and junctions on Oxford Road.",
        "questions": ["Should the bus lane run all day?"],
        "skills": [],
        "perspectives": [],
        "place": {"authority_code": "E08000003"},
        "languages": ["en"],
        "hours": 1,
        "deadline": (datetime.now(UTC) + timedelta(days=20)).isoformat(),
        "panel_size": 3,
        "conflicts": [],
        "confidentiality": "public",
    }


async def candidates(g: CallsGateway, headers: dict[str, str], call_id: str) -> list[Any]:
    await g.sync()
    matched = await g.client.post(f"/v1/calls/{call_id}/match", headers=headers)
    assert matched.status_code == 200, matched.text
    found: list[Any] = matched.json()["candidates"]
    return found


async def test_imported_responses_route_only_after_the_citizen_says_yes(
    calls_gateway: CallsGateway,
) -> None:
    g = calls_gateway
    email = f"resident-{uuid.uuid4().hex[:6]}@example.org"
    _, citizen = await g.citizen(email=email)
    placed = await g.client.patch(
        "/v1/me",
        headers=citizen,
        json={"place": {"authority_code": "E08000003"}, "languages": ["en"]},
    )
    assert placed.status_code == 200, placed.text
    await g.seed_citizen(skills=["Sourdough baking"])
    _, body_headers = await g.public_body(name="Manchester City Council")
    call = await g.client.post("/v1/calls", headers=body_headers, json=bus_call())
    assert call.status_code == 201, call.text
    call_id = call.json()["id"]
    before = await candidates(g, body_headers, call_id)
    assert not any(e["kind"] == "past_response" for c in before for e in c["evidence"])

    content = jsonl(
        [
            row("r-1", email.upper(), rating=5),
            row("r-2", email),
            row("r-3", "nobody-yet@example.org"),
            {"source": "Example Council", "external_id": "r-4"},
            row("r-5", email, rating=9),
        ]
    )
    accepted = await upload(g, g.admin, content)
    assert accepted.status_code == 202, accepted.text
    assert set(accepted.json()) == {"id", "status", "progress_percent"}
    report = await finished(g, g.admin, accepted.json()["id"])
    assert report["status"] == "succeeded"
    assert (report["rows"], report["imported"], report["pending_confirmation"]) == (5, 3, 2)
    assert report["rejected"] == [
        {
            "line": 4,
            "reason": "missing field(s): respondent_email, responded_at, question, response_text",
        },
        {"line": 5, "reason": "rating must be an integer from 1 to 5"},
    ]

    # Imported but not confirmed: routing is exactly as before.
    assert await candidates(g, body_headers, call_id) == before

    mine = await g.client.get("/v1/me/imports", headers=citizen)
    assert mine.status_code == 200, mine.text
    assert mine.json()["pending_by_source"] == [{"source": "Example Council", "count": 2}]
    confirmed = await g.client.post("/v1/me/imports/confirm", headers=citizen, json={})
    assert confirmed.json() == {"changed": 2}

    after = await candidates(g, body_headers, call_id)
    shown = [e for c in after for e in c["evidence"] if e["kind"] == "past_response"]
    assert shown, after
    assert shown[0]["source"] == "response to a Example Council consultation"
    assert "bus lane" in shown[0]["text"]

    exported = (await g.client.get("/v1/me/export", headers=citizen)).json()
    assert len(exported["profile"]["past_responses"]) == 2
    assert (await g.client.delete("/v1/me", headers=citizen)).status_code == 204


async def test_managers_import_for_their_organisation_only(calls_gateway: CallsGateway) -> None:
    g = calls_gateway
    council = await organisation(g)
    _, manager_tokens = await staff(g, council)
    manager = bearer(manager_tokens)
    _, officer_tokens = await staff(g, council, role="officer")
    _, other_tokens = await staff(g, await organisation(g))
    _, citizen = await g.citizen()

    accepted = await upload(g, manager, jsonl([row("m-1", "someone@example.org")]))
    assert accepted.status_code == 202, accepted.text
    import_id = accepted.json()["id"]
    report = await finished(g, manager, import_id)
    assert report["source_body_id"] == council
    assert report["unclaimed"] == 1
    assert (await g.client.get(f"/v1/admin/imports/{import_id}", headers=g.admin)).is_success
    other = await g.client.get(f"/v1/admin/imports/{import_id}", headers=bearer(other_tokens))
    assert other.status_code == 404
    for headers in (bearer(officer_tokens), citizen):
        refused = await upload(g, headers, jsonl([row("m-2", "x@example.org")]))
        assert refused.status_code == 403, refused.text
    bad_format = await upload(g, manager, b"{}", file_format="xml")
    assert bad_format.status_code == 422


async def test_answers_upload_is_evidence_answered_on_the_site(
    calls_gateway: CallsGateway,
) -> None:
    g = calls_gateway
    _, citizen = await g.citizen()
    placed = await g.client.patch(
        "/v1/me",
        headers=citizen,
        json={"place": {"authority_code": "E08000003"}, "languages": ["en"]},
    )
    assert placed.status_code == 200, placed.text
    content = (FIXTURES / "answers-export.json").read_bytes()
    uploaded = await g.client.post(
        "/v1/me/answers-import",
        headers=citizen,
        files={"file": ("answers.json", content, "application/json")},
    )
    assert uploaded.status_code == 201, uploaded.text
    result = uploaded.json()
    assert result["imported"] == 3
    assert [r["line"] for r in result["rejected"]] == [4]
    for not_answers in (b"true", b"site,question_title\n"):
        # schemathesis sent "true": a file holding no answers at all is refused, not a 201.
        refused = await g.client.post(
            "/v1/me/answers-import",
            headers=citizen,
            files={"file": ("answers.csv", not_answers, "text/csv")},
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["type"].endswith("answers-unreadable")
    again = await g.client.post(
        "/v1/me/answers-import",
        headers=citizen,
        files={"file": ("answers.json", content, "application/json")},
    )
    assert again.json()["duplicates"] == 3
    listed = (await g.client.get("/v1/me/answers", headers=citizen)).json()["items"]
    assert {a["site"] for a in listed} == {"bicycles.stackexchange.com"}

    _, body_headers = await g.public_body()
    call = bus_call()
    call["title"] = "Repairing bikes: tyre punctures, squealing disc brakes and worn chains"
    call["description"] = (
        "Volunteers at our bike library fix tyre punctures, clean disc brake rotors and "
        "measure chain stretch."
    )
    call["questions"] = ["When should a worn chain or contaminated brake pads be replaced?"]
    created = await g.client.post("/v1/calls", headers=body_headers, json=call)
    found = await candidates(g, body_headers, created.json()["id"])
    sources = {e.get("source") for c in found for e in c["evidence"] if e["kind"] == "answer"}
    assert sources == {"answered on bicycles.stackexchange.com"}
