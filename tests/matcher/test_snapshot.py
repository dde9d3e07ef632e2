"""Snapshot folders: a capture writes the index into a folder of its own while mutations
are held off, and ``write_snapshot`` finishes it later; a capture taken meanwhile is never
removed by an earlier one's clean-up, while captures taken before (discarded, or left by a
crash) and older snapshots are. The committed snapshot loads into the same store."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from convene_matcher.citizens.store import CitizenStore
from convene_matcher.index.evidence_index import EvidenceIndex, IndexParams
from convene_matcher.index.snapshot import (
    CURRENT,
    capture_snapshot,
    load_snapshot,
    save_snapshot,
    write_snapshot,
)
from tests.matcher.routing.test_store_columns import _assert_same, _store_with_history
from tests.matcher.test_index import DIM, unit


def _index_of(store: CitizenStore) -> EvidenceIndex:
    text_ids = store.text_ids()
    return EvidenceIndex.build(
        model_name="m",
        dimension=DIM,
        ids=text_ids,
        vectors=unit(len(text_ids), seed=3),
        params=IndexParams(),
        seq=store.seq,
    )


def _folders(index_dir: Path) -> list[str]:
    return sorted(path.name for path in index_dir.iterdir() if path.is_dir())


def test_a_saved_snapshot_loads_into_the_same_index_and_store(tmp_path: Path) -> None:
    store = _store_with_history()
    index = _index_of(store)
    save_snapshot(tmp_path, index=index, store=store)
    loaded = load_snapshot(tmp_path, model_name="m", dimension=DIM, params=IndexParams())
    assert loaded is not None
    loaded_index, loaded_store = loaded
    assert (loaded_index.seq, loaded_index.count) == (index.seq, index.count)
    queries = unit(5, seed=4)
    np.testing.assert_array_equal(index.search(queries, 5)[1], loaded_index.search(queries, 5)[1])
    _assert_same(store, loaded_store)
    assert _folders(tmp_path) == [(tmp_path / CURRENT).read_text()]


def test_a_capture_taken_meanwhile_survives_an_earlier_ones_clean_up(tmp_path: Path) -> None:
    store = _store_with_history()
    index = _index_of(store)
    crashed = tmp_path / f".tmp-snap-{store.seq - 1}-1"  # a capture a crash left behind
    crashed.mkdir()
    first = capture_snapshot(tmp_path, index=index, store=store)
    store.erase(next(iter(store.citizens()))[0])  # the feed goes on
    store.seq += 1
    index.seq = store.seq
    second = capture_snapshot(tmp_path, index=index, store=store)
    assert first.taken < second.taken
    written = write_snapshot(tmp_path, first)
    assert _folders(tmp_path) == sorted([written.name, second.folder.name])
    write_snapshot(tmp_path, second)
    assert _folders(tmp_path) == [second.name]
    assert (tmp_path / CURRENT).read_text() == second.name
    third = capture_snapshot(tmp_path, index=index, store=store)
    third.discard()
    assert _folders(tmp_path) == [second.name]
    loaded = load_snapshot(tmp_path, model_name="m", dimension=DIM, params=IndexParams())
    assert loaded is not None
    _assert_same(store, loaded[1])
