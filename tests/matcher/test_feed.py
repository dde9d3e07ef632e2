"""The change-feed consumer against the real profiles app (in-process)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi import FastAPI

from convene_matcher.citizens.schemas import Change, ChangePage, MatchSnapshot
from convene_matcher.evidence.items import ItemDraft
from convene_matcher.feed.consumer import FeedConsumer
from convene_matcher.index.service import EvidenceService
from tests.matcher.conftest import MatcherHarness, create_citizen


def evidence_of(app: FastAPI) -> EvidenceService:
    evidence: EvidenceService = app.state.evidence
    return evidence


def feed_of(app: FastAPI) -> FeedConsumer:
    feed: FeedConsumer = app.state.feed
    return feed


def state_of(evidence: EvidenceService) -> tuple[object, ...]:
    ids, _ = evidence.index.live_vectors()
    return (
        evidence.seq,
        sorted(ids.tolist()),
        sorted((i.item_id, i.citizen_id, i.kind, i.text) for i in evidence.store.items()),
        sorted(cid for cid, _ in evidence.store.citizens()),
    )


async def search_citizens(evidence: EvidenceService, text: str, k: int = 10) -> list[str]:
    query = await evidence.embedder.embed([text])
    _, ids = await evidence.search(query, k)
    citizens = []
    for item_id in ids[0].tolist():
        item = evidence.store.item(item_id)
        if item is not None and item.citizen_id not in citizens:
            citizens.append(item.citizen_id)
    return citizens


async def test_upserts_become_items_and_attributes(
    matcher_app: FastAPI, matcher: httpx.AsyncClient, profiles: httpx.AsyncClient
) -> None:
    planner = await create_citizen(
        profiles, skills=[("urban planning", "can_do"), ("cycling advocacy", "can_explain")]
    )
    nurse = await create_citizen(profiles, skills=[("paediatric nursing", "can_do")])
    response = await profiles.patch(
        f"/v1/citizens/{nurse}",
        json={"languages": ["en", "cy"], "consent": {"matching": True, "contact": False}},
    )
    assert response.status_code == 200, response.text
    applied = await feed_of(matcher_app).catch_up()
    assert applied >= 5
    evidence = evidence_of(matcher_app)
    assert evidence.index.count == 3
    record = evidence.store.get(nurse)
    assert record is not None
    assert record.snapshot.languages == ["en", "cy"]
    assert record.snapshot.consent.matching
    skills = {i.text: i.attributes["level"] for i in evidence.store.items_of(planner)}
    assert skills == {"urban planning": "can_do", "cycling advocacy": "can_explain"}
    assert (await search_citizens(evidence, "protected bike lanes on the high street"))[0] == (
        planner
    )
    status = (await matcher.get("/v1/index/status")).json()
    assert status["items"] == 3
    assert status["citizens"] == 2
    assert status["last_seq"] == evidence.seq
    assert status["lag"] == 0


async def test_applying_the_same_page_twice_changes_nothing(
    matcher_app: FastAPI, profiles: httpx.AsyncClient
) -> None:
    for label in ("flood defences", "sign language", "school governance"):
        await create_citizen(profiles, skills=[(label, "can_do")])
    page = (await profiles.get("/v1/changes", params={"after": 0, "limit": 100})).json()
    changes = [Change.model_validate(item) for item in page["items"]]
    evidence = evidence_of(matcher_app)
    first = await evidence.apply_changes(changes)
    assert first.applied == len(changes)
    assert first.added_vectors == 3
    before = state_of(evidence)
    again = await evidence.apply_changes(changes)
    assert (again.applied, again.skipped) == (0, len(changes))
    assert state_of(evidence) == before
    # Replaying a suffix of the page (overlap after a crash) is also harmless.
    assert (await evidence.apply_changes(changes[-2:])).applied == 0
    assert state_of(evidence) == before


async def test_unchanged_texts_keep_their_vectors_and_are_not_re_embedded(
    matcher_app: FastAPI, harness: MatcherHarness, profiles: httpx.AsyncClient
) -> None:
    citizen = await create_citizen(profiles, skills=[("beekeeping", "can_explain")])
    feed = feed_of(matcher_app)
    await feed.catch_up()
    evidence = evidence_of(matcher_app)
    (item,) = evidence.store.items_of(citizen)
    encoded = len(harness.model.texts)
    await profiles.patch(f"/v1/citizens/{citizen}", json={"languages": ["fr"]})
    await create_citizen(profiles, skills=[("Beekeeping", "can_do")])  # same text, other person
    await feed.catch_up()
    assert evidence.store.items_of(citizen) == [item]
    assert len(harness.model.texts) == encoded  # every text came from the cache
    # One vector per distinct normalised text: both citizens' items share it.
    assert evidence.index.count == 1
    other = [i for i in evidence.store.items() if i.citizen_id != citizen]
    assert [i.text_id for i in other] == [item.text_id]
    assert evidence.store.text_refs(item.text_id) == 2


async def test_erasure_removes_vectors_and_attributes(
    matcher_app: FastAPI, profiles: httpx.AsyncClient
) -> None:
    keep = await create_citizen(profiles, skills=[("housing law", "can_do")])
    erase = await create_citizen(
        profiles, skills=[("housing law", "can_do"), ("tenant organising", "can_do")]
    )
    feed = feed_of(matcher_app)
    await feed.catch_up()
    evidence = evidence_of(matcher_app)
    erased_items = evidence.store.items_of(erase)
    assert len(erased_items) == 2
    shared = evidence.store.text_id("housing law")
    unique = evidence.store.text_id("tenant organising")
    assert shared is not None
    assert unique is not None
    assert {i.text_id for i in erased_items} == {shared, unique}
    slot = evidence.store.get(erase).slot  # type: ignore[union-attr]
    response = await profiles.delete(f"/v1/citizens/{erase}")
    assert response.status_code == 204
    await feed.catch_up()
    assert evidence.store.get(erase) is None
    assert evidence.store.items_of(erase) == []
    assert not {i.item_id for i in erased_items} & {i.item_id for i in evidence.store.items()}
    live_ids, _ = evidence.index.live_vectors()
    # The erased citizen's unique text is gone from the index itself, not only filtered...
    assert unique not in live_ids.tolist()
    assert evidence.store.text_id("tenant organising") is None
    # ...and the shared text stays (the other citizen owns it), unlinked from the erased one.
    assert shared in live_ids.tolist()
    assert evidence.store.text_refs(shared) == 1
    arrays = evidence.store.arrays
    assert arrays.holders_of(shared) == {evidence.store.get(keep).slot}  # type: ignore[union-attr]
    assert not arrays.holders_of(unique)
    assert unique not in arrays.held_texts().tolist()
    assert not arrays.alive[slot]
    assert not arrays.texts_of_slot(slot)
    assert await search_citizens(evidence, "renters' rights") == [keep]
    # An erasure is snapshotted at once, so the erased data leaves the disk too.
    assert evidence.last_snapshot_seq == evidence.seq


async def test_erasure_in_hnsw_mode_zeroes_vectors(
    harness: MatcherHarness, profiles: httpx.AsyncClient
) -> None:
    app = harness.app(exact_search_max_items=0)
    async with app.router.lifespan_context(app):
        await create_citizen(profiles, skills=[("archaeology", "can_do")])
        erase = await create_citizen(profiles, skills=[("astronomy", "can_do")])
        feed = feed_of(app)
        await feed.catch_up()
        evidence = evidence_of(app)
        assert evidence.index.kind == "hnsw"
        (item,) = evidence.store.items_of(erase)
        await profiles.delete(f"/v1/citizens/{erase}")
        await feed.catch_up()
        stored = evidence.index._storage()
        assert evidence.index.count == 1
        assert int(np.count_nonzero(np.abs(stored).sum(axis=1))) == 1
        assert item.text_id not in evidence.index.live_vectors()[0].tolist()


async def test_restart_loads_snapshot_and_replays_from_its_seq(
    harness: MatcherHarness, profiles: httpx.AsyncClient
) -> None:
    first_citizen = await create_citizen(profiles, skills=[("public health", "can_do")])
    app = harness.app()
    async with app.router.lifespan_context(app):
        await feed_of(app).catch_up()
        snapshot_seq = evidence_of(app).seq
        snapshot_state = state_of(evidence_of(app))
    # Shutdown saved a snapshot. Changes made while the matcher is down:
    later = await create_citizen(profiles, skills=[("air quality monitoring", "can_do")])
    await profiles.patch(f"/v1/citizens/{first_citizen}", json={"languages": ["pl"]})
    encoded = len(harness.model.texts)
    restarted = harness.app()
    async with restarted.router.lifespan_context(restarted):
        evidence = evidence_of(restarted)
        assert evidence.loaded_from_snapshot
        assert state_of(evidence) == snapshot_state  # exactly the snapshot, seq included
        applied = await feed_of(restarted).catch_up()
        page = (await profiles.get("/v1/changes", params={"after": snapshot_seq})).json()
        assert applied == len(page["items"])  # only what came after the snapshot
        assert evidence.store.get(later) is not None
        record = evidence.store.get(first_citizen)
        assert record is not None
        assert record.snapshot.languages == ["pl"]
        assert evidence.index.count == 2
        # Only the new text was embedded after the restart (the rest came from the snapshot).
        assert harness.model.texts[encoded:] == ["air quality monitoring"]


async def test_snapshot_of_another_model_is_not_loaded(
    harness: MatcherHarness, profiles: httpx.AsyncClient
) -> None:
    await create_citizen(profiles, skills=[("carpentry", "can_do")])
    app = harness.app()
    async with app.router.lifespan_context(app):
        await feed_of(app).catch_up()
    other = harness.app(model_name="another-model")
    async with other.router.lifespan_context(other):
        evidence = evidence_of(other)
        assert not evidence.loaded_from_snapshot
        assert evidence.seq == 0
        await feed_of(other).catch_up()  # rebuilt by replaying the feed from 0
        assert evidence.index.count == 1


async def test_rebuild_endpoint_swaps_in_an_equivalent_index(
    matcher_app: FastAPI, matcher: httpx.AsyncClient, profiles: httpx.AsyncClient
) -> None:
    for label in ("mediation", "statistics", "youth work"):
        await create_citizen(profiles, skills=[(label, "can_do")])
    await feed_of(matcher_app).catch_up()
    evidence = evidence_of(matcher_app)
    old_index = evidence.index
    before = state_of(evidence)
    response = await matcher.post("/v1/index/rebuild")
    assert response.status_code == 200, response.text
    assert response.json() == {"kind": "exact", "items": 3, "seq": evidence.seq}
    assert evidence.index is not old_index
    assert state_of(evidence) == before


async def test_background_task_tails_the_feed(
    harness: MatcherHarness, profiles: httpx.AsyncClient
) -> None:
    import asyncio

    app = harness.app(feed_enabled=True, feed_poll_seconds=0.05)
    async with app.router.lifespan_context(app):
        citizen = await create_citizen(profiles, skills=[("translation", "can_do")])
        evidence = evidence_of(app)
        for _ in range(200):
            if evidence.store.get(citizen) is not None:
                break
            await asyncio.sleep(0.05)
        assert evidence.store.get(citizen) is not None
        assert not app.state.feed_task.done()


async def test_feed_errors_back_off_and_the_task_survives(harness: MatcherHarness) -> None:
    import asyncio

    # A real connection to a port nobody listens on.
    app = harness.app(
        feed_enabled=True,
        feed_poll_seconds=0.05,
        profiles_url="http://127.0.0.1:9",
        transport=httpx.AsyncHTTPTransport(),
    )
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0.4)
        feed = feed_of(app)
        assert feed.state.consecutive_errors >= 2
        assert feed.state.last_error == "ConnectError"
        assert not app.state.feed_task.done()
        assert evidence_of(app).seq == 0


# Labels that once made the apply fail: NFKC after lower casing is not idempotent for some
# Greek letters ('Ϊ́' normalises to 'ΐ', whose own normalisation is another text), case
# folding changes length ('İ', 'ß', 'ẞ'), non-characters, combining marks, controls.
STRANGE_LABELS = [
    "\u0390",  # what 'Ϊ́' normalises to after a second pass: already a known text
    "\u03aa\u0301",
    "\u03ab\u0301 and \u1fbc\u0345",
    "\u0130stanbul planning",
    "Stra\u00dfe STRA\u1e9eE",
    "noncharacter \uffff here",
    "e\u0301\u0301\u0301 combining",
    "\u0301 leading mark",
    "bell\u0007 and escape\u001b and del\u007f",
    "\ufb01 ligature \u2126 ohm \u212a kelvin",
    "   \u00a0\u2003 spaced \u3000 out  ",
]


def strange_change(seq: int, citizen_id: str, labels: list[str]) -> Change:
    return Change.model_validate(
        {
            "seq": seq,
            "citizen_id": citizen_id,
            "kind": "upsert",
            "snapshot": {
                "citizen_id": citizen_id,
                "consent": {"matching": True},
                "skills": [
                    {"id": f"s{n}", "label": label, "level": "can_do"}
                    for n, label in enumerate(labels)
                ],
                "roles": [{"id": "r1", "role": label} for label in labels[:1]],
            },
        }
    )


async def test_strange_unicode_labels_apply_and_keep_store_and_index_in_step(
    harness: MatcherHarness,
) -> None:
    import uuid

    app = harness.app()
    async with app.router.lifespan_context(app):
        evidence = evidence_of(app)
        first, second = str(uuid.uuid4()), str(uuid.uuid4())
        # One page per citizen (the second names texts the first made known), then one page
        # with both again in another order.
        await evidence.apply_changes([strange_change(1, first, STRANGE_LABELS[:1])])
        await evidence.apply_changes([strange_change(2, second, STRANGE_LABELS)])
        await evidence.apply_changes(
            [
                strange_change(3, first, STRANGE_LABELS[::-1]),
                strange_change(4, second, STRANGE_LABELS[1:3]),
            ]
        )
        assert evidence.seq == 4
        ids, _ = evidence.index.live_vectors()
        assert sorted(ids.tolist()) == sorted(text_id for text_id, _ in evidence.store.texts())
        await evidence.save_snapshot()
        before = state_of(evidence)
    restarted = harness.app()
    async with restarted.router.lifespan_context(restarted):
        assert state_of(evidence_of(restarted)) == before


async def test_a_poison_change_is_skipped_and_logged_not_retried_forever(
    harness: MatcherHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import uuid

    app = harness.app()
    async with app.router.lifespan_context(app):
        evidence = evidence_of(app)
        poison, fine = str(uuid.uuid4()), str(uuid.uuid4())
        page = [
            strange_change(1, poison, ["flood defences"]),
            strange_change(2, fine, ["sign language"]),
        ]
        upsert = evidence.store.upsert

        def failing_upsert(snapshot: MatchSnapshot, drafts: list[ItemDraft] | None = None) -> Any:
            if snapshot.citizen_id == poison:
                raise RuntimeError("a bug this change triggers")
            return upsert(snapshot, drafts)

        # The one place a bug is injected: the store refusing this one citizen.
        monkeypatch.setattr(evidence.store, "upsert", failing_upsert)

        async def fetch(**_: Any) -> ChangePage:
            return ChangePage(items=page, last_seq=2, head_seq=2)

        feed = feed_of(app)
        monkeypatch.setattr(feed.client, "fetch_changes", fetch)
        with caplog.at_level(logging.ERROR, logger="convene.matcher.feed"):
            result = await feed.poll_once()
        assert result.applied == 2
        assert evidence.seq == 2
        assert feed.state.skipped_changes == 1
        assert evidence.store.get(fine) is not None
        assert evidence.store.get(poison) is None
        assert any(getattr(r, "seq", None) == 1 for r in caplog.records)


async def test_a_change_that_does_not_parse_is_skipped_and_logged(
    harness: MatcherHarness, caplog: pytest.LogCaptureFixture
) -> None:
    import json
    import uuid

    good = strange_change(1, str(uuid.uuid4()), ["flood defences"]).model_dump(mode="json")
    bad = {"seq": 2, "citizen_id": "x", "kind": "upsert", "snapshot": {"consent": "maybe"}}
    later = strange_change(3, str(uuid.uuid4()), ["sign language"]).model_dump(mode="json")
    pages = {0: [good, bad], 1: [good, bad], 2: [later], 3: []}

    def profiles(request: httpx.Request) -> httpx.Response:
        after = int(request.url.params["after"])
        items = pages.get(after, [])
        last = items[-1]["seq"] if items else after
        body = {"items": items, "last_seq": last, "head_seq": 3}
        return httpx.Response(200, content=json.dumps(body).encode())

    # Profiles is the downstream this test stands in for: it serves one malformed change.
    app = harness.app(transport=httpx.MockTransport(profiles))
    async with app.router.lifespan_context(app):
        feed = feed_of(app)
        with caplog.at_level(logging.ERROR, logger="convene.matcher.feed"):
            await feed.catch_up()
        evidence = evidence_of(app)
        assert evidence.seq == 3
        assert len(evidence.store) == 2
        assert feed.state.skipped_changes == 1
        assert any(getattr(r, "seq", None) == 2 for r in caplog.records)
