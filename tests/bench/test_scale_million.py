"""bench/scale_million.py's tiling: the store it gives holds every citizen `copies` times,
each clone with its own id and the original's evidence, and loads like any snapshot."""

from __future__ import annotations

import json

import numpy as np

from bench.scale_million import clone_id, tile_columns
from convene_matcher.citizens.store import CitizenStore
from tests.matcher.routing.citizens import snapshot


def _store() -> CitizenStore:
    store = CitizenStore()
    people = [
        snapshot(skills=[(f"flood risk {n % 4}", "can_do")], roles=["carer"] if n % 2 else [])
        for n in range(30)
    ]
    for person in people:
        store.upsert(person)
    for person in people[:5]:  # dead item rows and role rows, and free slots
        store.upsert(
            snapshot(roles=["cyclist"]).model_copy(update={"citizen_id": person.citizen_id})
        )
    store.erase(people[29].citizen_id)
    store.seq = 36
    return store


def test_tiling_gives_every_citizen_clones_with_the_same_evidence() -> None:
    store = _store()
    meta, arrays = store.columns()
    tiled_meta, tiled_arrays = tile_columns(json.loads(json.dumps(meta)), arrays, 3)
    tiled = CitizenStore.from_columns(json.loads(json.dumps(tiled_meta)), tiled_arrays)
    assert len(tiled) == 3 * len(store)
    assert tiled.item_count == 3 * store.item_count
    assert tiled.text_count == store.text_count
    for citizen_id, record in store.citizens():
        originals = sorted((i.kind, i.text) for i in store.items_of(citizen_id))
        for copy in range(3):
            clone = clone_id(citizen_id, copy)
            found = tiled.get(clone)
            assert found is not None
            assert found.snapshot.citizen_id == clone
            assert sorted((i.kind, i.text) for i in tiled.items_of(clone)) == originals
            assert all(i.citizen_id == clone for i in tiled.items_of(clone))
            assert tiled.arrays.slot_citizen[found.slot] == clone
            assert tiled.arrays.item_count[found.slot] == store.arrays.item_count[record.slot]
    assert len(tiled.arrays.role_holders("carer")) == 3 * len(store.arrays.role_holders("carer"))
    assert len(tiled.arrays.role_holders("cyclist")) == 3 * 5
    for text_id in store.arrays.held_texts().tolist():
        holders = store.arrays.holders_of(text_id)
        assert len(tiled.arrays.holders_of(text_id)) == 3 * len(holders)
    assert {t: tiled.text_refs(t) for t, _ in tiled.texts()} == {
        t: 3 * store.text_refs(t) for t, _ in store.texts()
    }
    # It goes on changing like any store: a clone replaced, an original erased.
    some_id = next(iter(c for c, _ in store.citizens()))
    tiled.upsert(
        snapshot(roles=["cyclist"]).model_copy(update={"citizen_id": clone_id(some_id, 2)})
    )
    tiled.erase(some_id)
    assert len(tiled) == 3 * len(store) - 1
    assert np.all(tiled.arrays.role_holders("cyclist") >= 0)
