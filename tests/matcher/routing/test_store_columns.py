"""The store's snapshot columns: a restart loads the routing arrays as they were saved
(formats 4 and 5) and the store it gives is the store that was saved, item for item and
column for column, as the slower rebuild from each citizen's snapshot (format 3) gives it
too. Format 5 keeps texts as raw utf-8 columns; a format 4 snapshot (normalised texts in
JSON) loads into the same store. Items live in columns and are built on demand: they are
the items a plain dict of ``EvidenceItem`` (the store's former layout) holds through the
same upserts and erasures, and an erasure frees every table row its items held."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from convene_matcher.citizens.arrays import ITEM_COLUMNS, SLOT_COLUMNS, CitizenArrays
from convene_matcher.citizens.item_columns import NONE
from convene_matcher.citizens.store import STORE_FORMAT, CitizenStore, _utf8_strings
from convene_matcher.evidence.items import EvidenceItem, ItemDraft
from tests.matcher.routing.citizens import BOLTON, LONDON, SALFORD, snapshot

SKILLS = ["cycling infrastructure", "flood risk", "housing law", "Youth work", "data analysis"]
ROLES = ["cab-driver", "cyclist", "carer", "wheelchair user"]
FLOATS = {"lat", "lon", "rating", "item_expires", "item_dated", "item_signal"}


def _citizen(rng: np.random.Generator, n: int) -> Any:
    start = datetime(2027, 1, 1, tzinfo=UTC) + timedelta(days=int(rng.integers(0, 60)))
    return snapshot(
        skills=[
            (f"{rng.choice(SKILLS)} {n % 7}", "can_do") for _ in range(int(rng.integers(0, 4)))
        ],
        roles=list(rng.choice(ROLES, size=int(rng.integers(0, 3)), replace=False)),
        badges=[(f"Badge {n % 5}", bool(n % 2))],
        affiliations=[("Manchester City Council", "employer")] if n % 9 == 0 else [],
        topics=[f"Ran a consultation on {rng.choice(SKILLS)}"] if n % 4 == 0 else [],
        at=[SALFORD, BOLTON, LONDON, None][n % 4],
        languages=["en", "cy"] if n % 3 == 0 else ["en"],
        access_needs=["step-free access"] if n % 11 == 0 else [],
        max_per_month=None if n % 2 else 3,
        unavailable=[(start, start + timedelta(days=9))] if n % 13 == 0 else [],
        rating=None if n % 5 else 4.5,
    )


def _store_with_history() -> CitizenStore:
    """Citizens added, replaced (dead item rows) and erased (free slots, dead role rows)."""
    store = CitizenStore()
    rng = np.random.default_rng(11)
    people = [_citizen(rng, n) for n in range(300)]
    for person in people:
        store.upsert(person)
    for n, person in enumerate(people[:120]):
        store.upsert(_citizen(rng, n + 1000).model_copy(update={"citizen_id": person.citizen_id}))
    for person in people[200:260]:
        store.erase(person.citizen_id)
    store.seq = 480
    return store


def _assert_same(live: CitizenStore, loaded: CitizenStore) -> None:
    a, b = live.arrays, loaded.arrays
    for name in SLOT_COLUMNS:
        assert np.array_equal(
            getattr(a, name)[: a.capacity], getattr(b, name)[: b.capacity], equal_nan=name in FLOATS
        ), name
    for name in ITEM_COLUMNS:
        assert np.array_equal(
            getattr(a, name)[: a.item_rows],
            getattr(b, name)[: b.item_rows],
            equal_nan=name in FLOATS,
        ), name
    for table in ("roles", "affiliations", "ratings"):
        # Row numbers differ once dead rows are dropped; the (slot, value, flag) rows do not.
        def rows(arrays: CitizenArrays, table: str = table) -> list[tuple[Any, ...]]:
            slots, values, flags = getattr(arrays, table).view()
            return sorted(
                (s, v, f)
                for s, v, f in zip(slots.tolist(), values.tolist(), flags.tolist(), strict=True)
                if s >= 0
            )

        assert rows(a) == rows(b), table
    held = a.held_texts()
    assert held.tolist() == b.held_texts().tolist()
    assert [a.holders_of(t) for t in held.tolist()] == [b.holders_of(t) for t in held.tolist()]
    live_slots = np.flatnonzero(a.alive[: a.capacity]).tolist()
    assert [a.texts_of_slot(s) for s in live_slots] == [b.texts_of_slot(s) for s in live_slots]
    assert a.slot_citizen == b.slot_citizen
    assert sorted(a.free_slots) == sorted(b.free_slots)
    assert a.unavailable == b.unavailable
    assert a.access_needs == b.access_needs
    for name in ("role_ids", "organisation_ids", "language_ids", "authority_ids", "code_ids"):
        assert getattr(a, name).values == getattr(b, name).values, name
    _assert_same_items(live, loaded)
    assert dict(live.texts()) == dict(loaded.texts())
    assert live._text_ids == loaded._text_ids
    assert live.text_count == loaded.text_count == len(dict(live.texts()))
    assert np.array_equal(live.text_ids(), loaded.text_ids())
    assert {t: live.text_refs(t) for t, _ in live.texts()} == {
        t: loaded.text_refs(t) for t, _ in loaded.texts()
    }
    assert {c: (r.item_ids, r.slot, r.snapshot_json) for c, r in live.citizens()} == {
        c: (r.item_ids, r.slot, r.snapshot_json) for c, r in loaded.citizens()
    }
    for role in ROLES:
        assert np.array_equal(a.role_holders(role), b.role_holders(role)), role
    assert np.array_equal(
        a.affiliated(frozenset({"manchester city council"}), employer_only=True),
        b.affiliated(frozenset({"manchester city council"}), employer_only=True),
    )


def _assert_same_items(
    live: CitizenStore, loaded: CitizenStore, *, same_slots: bool = True
) -> None:
    """The same items, and the same columns wherever a column holds a value (table rows may
    be numbered differently: a live table reuses freed rows; a format 3 load lays out the
    citizen slots afresh)."""
    assert list(live.items()) == list(loaded.items())
    assert live.item_count == loaded.item_count == len(list(live.items()))
    a, b = live._items, loaded._items
    ids = a.live_ids()
    assert np.array_equal(ids, b.live_ids())
    for name in ("owner", "kind", "text_id") if same_slots else ("kind", "text_id"):
        assert np.array_equal(getattr(a, name)[ids], getattr(b, name)[ids]), name
    for name in ("raw", "source"):
        assert np.array_equal(getattr(a, name)[ids] == NONE, getattr(b, name)[ids] == NONE), name
    uuids = ids[a.source[ids] == NONE]
    assert np.array_equal(a.source_uuid[uuids], b.source_uuid[uuids])
    for name in ("attribute_table", "raw_table", "source_table"):
        assert len(getattr(a, name)) == len(getattr(b, name)), name


def _as_format_4(
    store: CitizenStore, meta: dict[str, Any], arrays: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What a format 4 snapshot of the store holds: normalised texts, raw texts and source ids
    as JSON lists."""
    meta = {
        **meta,
        "format": 4,
        "texts": [[text_id, text] for text_id, text in store.texts()],
        "raw_texts": _utf8_strings(arrays["raw_text_bytes"], arrays["raw_text_lengths"]),
        "source_ids": _utf8_strings(arrays["source_id_bytes"], arrays["source_id_lengths"]),
    }
    new_in_5 = ("text_id", "text_raw", "text_digest", "raw_text_", "source_id_")
    return meta, {k: v for k, v in arrays.items() if not k.startswith(new_in_5)}


def _round_trip(
    store: CitizenStore, *, format_3: bool = False, format_4: bool = False
) -> CitizenStore:
    meta, saved = store.columns()
    arrays: Mapping[str, Any] = saved
    if format_3 or format_4:
        meta, arrays = _as_format_4(store, meta, saved)
    meta = json.loads(json.dumps(meta))  # as written to and read from store.json
    if format_3:  # what a snapshot written before format 4 holds
        meta["format"] = 3
        del meta["arrays"]
        format_3_arrays = {k: v for k, v in arrays.items() if not k.startswith("arrays_")}
        # and each citizen's snapshot as plain JSON, in the order of the columns
        raw = [record.snapshot_json for _, record in store.citizens()]
        format_3_arrays["snapshot_bytes"] = np.frombuffer(b"".join(raw), dtype=np.uint8)
        format_3_arrays["snapshot_lengths"] = np.array([len(r) for r in raw], dtype=np.int64)
        arrays = format_3_arrays
    return CitizenStore.from_columns(meta, arrays)


def test_a_loaded_store_is_the_saved_store() -> None:
    store = _store_with_history()
    assert STORE_FORMAT == 5
    loaded = _round_trip(store)
    _assert_same(store, loaded)
    # Its snapshots are not parsed at load, but read as before.
    some_id, record = next(iter(store.citizens()))
    assert loaded.get(some_id) is not None
    assert loaded.get(some_id).snapshot == record.snapshot  # type: ignore[union-attr]


class _CountedReads(Mapping[str, Any]):
    """Columns that count how often each is read (np.load's NpzFile reads one from the file on
    every access)."""

    def __init__(self, arrays: Mapping[str, Any]) -> None:
        self._arrays = dict(arrays)
        self.reads: Counter[str] = Counter()

    def __getitem__(self, name: str) -> Any:
        self.reads[name] += 1
        return self._arrays[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)


def test_a_store_loads_reading_each_saved_column_once() -> None:
    store = _store_with_history()
    meta, arrays = store.columns()
    columns = _CountedReads(arrays)
    loaded = CitizenStore.from_columns(json.loads(json.dumps(meta)), columns)
    _assert_same(store, loaded)
    assert set(columns.reads) == set(arrays)
    assert set(columns.reads.values()) == {1}


def test_a_format_4_snapshot_still_loads_into_the_same_store() -> None:
    store = _store_with_history()
    loaded = _round_trip(store, format_4=True)
    _assert_same(store, loaded)
    # and saved again (format 5), it is still the same store
    _assert_same(store, _round_trip(loaded))


def test_a_format_3_snapshot_still_loads_and_rebuilds_the_same_arrays() -> None:
    store = _store_with_history()
    rebuilt = _round_trip(store, format_3=True)
    # Rebuilt citizen by citizen: slots and item rows are laid out afresh, so the facts are
    # compared through each citizen rather than column by column.
    for citizen_id, record in store.citizens():
        other = rebuilt.get(citizen_id)
        assert other is not None
        assert other.item_ids == record.item_ids
        assert other.snapshot_json == record.snapshot_json
        for name in ("consent", "cap", "authority", "item_count", "python_checks"):
            assert (
                getattr(store.arrays, name)[record.slot]
                == getattr(rebuilt.arrays, name)[other.slot]
            ), name
    _assert_same_items(store, rebuilt, same_slots=False)
    assert _round_trip(rebuilt).arrays.item_rows == rebuilt.arrays.item_rows


def test_a_loaded_store_goes_on_changing_like_the_live_one() -> None:
    store = _store_with_history()
    loaded = _round_trip(store)
    rng = np.random.default_rng(12)
    ids = [citizen_id for citizen_id, _ in store.citizens()]
    for n in range(200):  # enough replacements to compact item rows and row tables
        changed = _citizen(rng, n + 2000).model_copy(update={"citizen_id": ids[n % 40]})
        for target in (store, loaded):
            target.upsert(changed)
    for citizen_id in ids[40:70]:
        first, second = store.erase(citizen_id), loaded.erase(citizen_id)
        assert sorted(first.dropped_texts) == sorted(second.dropped_texts)
    newcomer = _citizen(rng, 5000)
    assert store.upsert(newcomer).new_texts == loaded.upsert(newcomer).new_texts
    _assert_same(store, loaded)


def test_an_unknown_store_format_is_refused() -> None:
    meta, arrays = CitizenStore().columns()
    meta["format"] = 99
    with pytest.raises(ValueError, match="store format 99"):
        CitizenStore.from_columns(meta, arrays)


UUID = "0f8fad5b-d9cb-469f-a165-70867728950e"
RAW_VARIANTS = ["Housing Law", "housing law", "HOUSING  LAW"]
SOURCES = [
    UUID,
    UUID.upper(),
    "bio",
    "s1",
    "{" + UUID + "}",
    "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
]


def _drafts(rng: np.random.Generator) -> list[ItemDraft]:
    """Drafts over a small vocabulary, so upserts keep, change and drop items: source ids
    that are canonical UUIDs and ones that are not (upper case, braces, "bio"), raw texts
    that normalise to one text, attributes that are shared, unique or unhashable."""
    drafts = []
    for _ in range(int(rng.integers(0, 6))):
        attributes: dict[str, Any] = [
            {"level": "can_do"},
            {"level": str(rng.choice(["can_do", "can_explain"]))},
            {"entry_kind": "job", "title": f"Title {rng.integers(0, 3)}"},
            {"tags": ["unhashable"]},
        ][int(rng.integers(0, 4))]
        drafts.append(
            ItemDraft(
                str(rng.choice(["skill", "experience", "badge"])),  # type: ignore[arg-type]
                str(rng.choice(SOURCES)),
                str(rng.choice([*RAW_VARIANTS, "flood risk", f"own text {rng.integers(0, 2)}"])),
                attributes,
            )
        )
    return drafts


class _DictItems:
    """The former layout, as a reference: an ``EvidenceItem`` per id in a dict."""

    def __init__(self) -> None:
        self.items: dict[int, EvidenceItem] = {}
        self.of: dict[str, list[int]] = {}
        self.next_id = 1

    def upsert(self, citizen_id: str, drafts: list[ItemDraft]) -> None:
        held = [self.items[i] for i in self.of.get(citizen_id, [])]
        existing = {(i.kind, i.source_id, i.text): i for i in held}
        kept: list[int] = []
        seen: set[tuple[str, str, str]] = set()
        for draft in drafts:
            if draft.identity in seen:
                continue
            seen.add(draft.identity)
            found = existing.pop(draft.identity, None)
            item_id = found.item_id if found else self.next_id
            self.next_id += found is None
            text_id = found.text_id if found else -1  # compared apart: the store allocates
            self.items[item_id] = EvidenceItem(
                item_id, citizen_id, draft.kind, draft.source_id, draft.text,
                draft.attributes, text_id,
            )  # fmt: skip
            kept.append(item_id)
        for stale in existing.values():
            del self.items[stale.item_id]
        self.of[citizen_id] = kept

    def erase(self, citizen_id: str) -> None:
        for item_id in self.of.pop(citizen_id, []):
            del self.items[item_id]


def _without_text_id(item: EvidenceItem | None) -> tuple[Any, ...]:
    assert item is not None
    return (item.item_id, item.citizen_id, item.kind, item.source_id, item.text, item.attributes)


def _assert_as_reference(store: CitizenStore, reference: _DictItems) -> None:
    assert [_without_text_id(i) for i in store.items()] == [
        _without_text_id(reference.items[i]) for i in sorted(reference.items)
    ]
    for citizen_id, item_ids in reference.of.items():
        assert [_without_text_id(i) for i in store.items_of(citizen_id)] == [
            _without_text_id(reference.items[i]) for i in item_ids
        ]
        assert store.get(citizen_id).item_ids == tuple(item_ids)  # type: ignore[union-attr]
    for item_id in range(store.next_item_id + 1):
        item = store.item(item_id)
        assert (item is None) == (item_id not in reference.items), item_id
        if item is not None:
            assert _without_text_id(item) == _without_text_id(reference.items[item_id])
            assert store.text(item.text_id) == store.text(store.text_id(item.text) or 0)


def test_items_are_the_items_a_dict_of_evidence_items_holds() -> None:
    """Ids kept across upserts while (kind, source id, text) is unchanged, attributes
    refreshed, the rest removed and added; through a snapshot round trip too."""
    rng = np.random.default_rng(21)
    store, reference = CitizenStore(), _DictItems()
    people = [snapshot() for _ in range(12)]
    for step in range(300):
        person = people[int(rng.integers(0, len(people)))]
        if step % 17 == 16:
            store.erase(person.citizen_id)
            reference.erase(person.citizen_id)
        else:
            drafts = _drafts(rng)
            result = store.upsert(person, drafts)
            before = set(reference.items)
            reference.upsert(person.citizen_id, drafts)
            assert sorted(i.item_id for i in result.added) == sorted(set(reference.items) - before)
            assert sorted(result.removed) == sorted(before - set(reference.items))
        if step % 50 == 49:
            _assert_as_reference(store, reference)
            loaded = _round_trip(store)
            _assert_as_reference(loaded, reference)
            _assert_same_items(store, loaded)
            # Format 4 did not save which raw text is a text's own: the same items, though
            # another of a text's raw texts may be the one held as its own.
            _assert_as_reference(_round_trip(store, format_4=True), reference)
            store = loaded  # and it goes on from the loaded store


def test_erasing_everyone_frees_every_item_table_row() -> None:
    rng = np.random.default_rng(22)
    store = CitizenStore()
    people = [snapshot() for _ in range(10)]
    for person in people * 3:
        store.upsert(person, _drafts(rng))
    store = _round_trip(store)
    for person in people:
        store.upsert(person, _drafts(rng))
        store.erase(person.citizen_id)
    columns = store._items
    assert store.item_count == columns.live == 0
    assert store.text_count == 0
    assert list(store.items()) == []
    assert not (columns.owner != NONE).any()
    for table in (columns.attribute_table, columns.raw_table, columns.source_table):
        assert len(table) == 0
        assert all(value is None for value in table.values)
