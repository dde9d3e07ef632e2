"""A citizen who has left traces in every part of the matcher, and a walk over its tables."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI

from convene_matcher.embedding.text import normalise_text, text_key
from convene_matcher.feed.consumer import FeedConsumer
from tests.matcher.conftest import create_citizen
from tests.matcher.invitations.test_invitations import BODY, call_body

Q = {"public_body_id": str(BODY)}
UNIQUE_SKILL = "victorian canal lock restoration"
SHARED_SKILL = "cycling in city traffic"


@dataclass
class Traces:
    citizen_id: str
    email: str
    other_id: str
    unique_texts: list[str]
    call_ids: list[str] = field(default_factory=list)


async def consenting_citizen(profiles: httpx.AsyncClient, skills: list[tuple[str, str]]) -> str:
    citizen_id = await create_citizen(profiles, skills=skills)
    response = await profiles.patch(
        f"/v1/citizens/{citizen_id}",
        json={"languages": ["en"], "consent": {"matching": True, "contact": True}},
    )
    assert response.status_code == 200, response.text
    return citizen_id


async def leave_traces(
    app: FastAPI, matcher: httpx.AsyncClient, profiles: httpx.AsyncClient
) -> Traces:
    """Matches, invitations (with an idempotent request), an acceptance with hours, a rating,
    a "not my expertise" decline, a closing with its outcome email, and an outcome label."""
    feed: FeedConsumer = app.state.feed
    person = await consenting_citizen(
        profiles, [(UNIQUE_SKILL, "can_do"), (SHARED_SKILL, "can_do")]
    )
    other = await consenting_citizen(profiles, [(SHARED_SKILL, "can_do")])
    await feed.catch_up()
    traces = Traces(
        citizen_id=person,
        email=f"{person[:8]}@example.org",
        other_id=other,
        unique_texts=[UNIQUE_SKILL],
    )
    topic = "Canal lock restoration and cycling on the towpath"
    for n in range(2):
        created = await matcher.post(
            "/v1/calls",
            json=call_body(title=f"{topic} ({n})", hours=1, panel_size=2, skills=[]),
        )
        assert created.status_code == 201, created.text
        call_id = created.json()["id"]
        traces.call_ids.append(call_id)
        matched = await matcher.post(f"/v1/calls/{call_id}/match", params=Q)
        assert matched.status_code == 200, matched.text
        invited = await matcher.post(
            f"/v1/calls/{call_id}/invitations",
            params=Q,
            json={"message": "We would value your view."},
            headers={"Idempotency-Key": f"traces-{n}"},
        )
        assert invited.status_code == 201, invited.text
        assert len(invited.json()["items"]) == 2, invited.text
    first, second = traces.call_ids
    listed = await matcher.get(f"/v1/citizens/{person}/invitations")
    by_call = {i["call_id"]: i["id"] for i in listed.json()["items"]}
    accepted = await matcher.post(
        f"/v1/citizens/{person}/invitations/{by_call[first]}/accept", json={"hours_offered": 0.5}
    )
    assert accepted.status_code == 200, accepted.text
    declined = await matcher.post(
        f"/v1/citizens/{person}/invitations/{by_call[second]}/decline",
        json={"reason": "not_my_expertise"},
    )
    assert declined.status_code == 200, declined.text
    body_view = await matcher.get(f"/v1/calls/{first}/invitations", params=Q)
    (mine,) = [i for i in body_view.json()["items"] if i["contact_citizen_id"] == person]
    submitted = await matcher.post(
        f"/v1/citizens/{person}/invitations/{by_call[first]}/contribution",
        json={"comment": "The canal locks leak at the third gate."},
    )
    assert submitted.status_code == 200, submitted.text
    rated = await matcher.post(
        f"/v1/calls/{first}/contributions/{mine['ref']}/rating",
        params=Q,
        json={"rating": 4, "comment": "Knew every lock on the canal."},
    )
    assert rated.status_code == 201, rated.text
    closed = await matcher.post(
        f"/v1/calls/{first}/close", params=Q, json={"outcome": "We restore two locks."}
    )
    assert closed.status_code == 200, closed.text
    async with app.state.pool.acquire() as connection:
        await connection.execute(
            """INSERT INTO outcome_label (call_id, citizen_id, answer, rating, source)
               VALUES ($1, $2, 'accepted', 4, 'test')""",
            uuid.UUID(first),
            uuid.UUID(person),
        )
    await feed.catch_up()  # the rating comes back from profiles as a contribution
    return traces


def _text(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value).lower()


async def where_found(app: FastAPI, traces: Traces) -> dict[str, set[str]]:
    """table.column -> which of the citizen's traces it holds, over EVERY table of the
    matcher's schema (read from information_schema: a new table cannot be forgotten)."""
    model = app.state.evidence.embedder.cache_model
    needles = {
        "citizen_id": traces.citizen_id.lower(),
        "email": traces.email.lower(),
        **{f"text:{t}": t.lower() for t in traces.unique_texts},
        # The embedding cache holds digests of normalised texts, never the texts.
        **{f"vector:{t}": text_key(normalise_text(t)).hex() for t in traces.unique_texts},
    }
    found: dict[str, set[str]] = {}
    async with app.state.pool.acquire() as connection:
        tables = await connection.fetch(
            """SELECT table_name FROM information_schema.tables
               WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
               ORDER BY table_name"""
        )
        assert len(tables) >= 15, [t["table_name"] for t in tables]
        for table in tables:
            name = table["table_name"]
            rows = await connection.fetch(f'SELECT * FROM "{name}"')
            for row in rows:
                for column, value in row.items():
                    if value is None:
                        continue
                    text = _text(value)
                    for label, needle in needles.items():
                        if needle in text:
                            found.setdefault(f"{name}.{column}", set()).add(label)
    assert model  # the cache rows are per model; digests cover every model's rows
    return found
