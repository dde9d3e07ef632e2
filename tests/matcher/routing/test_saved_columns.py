"""A snapshot's store columns are built as they are written (``SavedColumns``): the file is
what ``np.savez`` writes of the same columns, member for member and byte for byte, and what
is saved is the store as it was when its columns were taken, whatever the feed changes
while they are written."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import numpy as np

from convene_matcher.citizens.saved_columns import ArrayRun, ByteRun, SavedColumns, Streamed
from convene_matcher.citizens.store import CitizenStore
from tests.matcher.routing.test_store_columns import (
    _assert_same,
    _citizen,
    _store_with_history,
)


def _words(text: str) -> dict[str, float]:
    words = text.casefold().split()
    return {word: 1.0 / len(words) for word in words}


def _npz(columns: SavedColumns) -> bytes:
    handle = io.BytesIO()
    columns.write_npz(handle)
    return handle.getvalue()


def _members(npz: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(npz)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_written_columns_are_what_np_savez_writes() -> None:
    columns = SavedColumns()
    columns["plain"] = np.arange(10, dtype=np.int64)
    columns["built"] = lambda: np.ones((4, 16), dtype=np.uint8)
    columns["texts"] = ByteRun(["cycling", "Café au lait", "", "flood risk"])
    columns["blobs"] = ByteRun([b"\x00\x01", b"", b"xyz"])
    columns["empty"] = ByteRun([])
    columns["rows"] = ByteRun([b"abcd", b"efgh", b"ijkl"], width=4)
    pieces = [np.array([1, 2], np.int32), np.empty(0, np.int32), np.array([3], np.int32)]
    columns["run"] = ArrayRun(pieces, np.dtype(np.int32))
    columns["empty_run"] = ArrayRun([], np.dtype(np.float32))
    columns["streamed"] = Streamed(np.dtype(np.uint8), 5, lambda: iter([b"ab", b"", b"cde"]))
    columns["floats"] = np.array([np.nan, 1.5], dtype=np.float32)
    reference = io.BytesIO()
    np.savez(reference, **{name: columns[name] for name in columns})  # type: ignore[arg-type]
    assert _members(_npz(columns)) == _members(reference.getvalue())
    assert columns["texts"].tobytes() == "cyclingCafé au laitflood risk".encode()
    assert ByteRun(["Café", "ab"]).lengths().tolist() == [5, 2]


def test_a_store_saved_and_loaded_through_the_npz_file_is_the_same_store() -> None:
    store = _store_with_history()
    store.postings(("lexical", 4.0), _words).fill(store.text, store.text_ids())
    meta, columns = store.columns()
    with np.load(io.BytesIO(_npz(columns))) as arrays:
        loaded = CitizenStore.from_columns(json.loads(json.dumps(meta)), arrays)
    _assert_same(store, loaded)
    key = ("lexical", 4.0)
    text_ids = store.text_ids()
    query = "flood risk cycling"
    assert np.array_equal(
        store.postings(key, _words).similarities(store.text, text_ids, query, store.next_text_id),
        loaded.postings(key, _words).similarities(
            loaded.text, text_ids, query, loaded.next_text_id
        ),
    )


def test_columns_written_later_are_the_store_as_it_was_taken() -> None:
    store = _store_with_history()
    store.postings(("lexical", 4.0), _words).fill(store.text, store.text_ids())
    _, columns = store.columns()
    at_capture: dict[str, Any] = {name: columns[name].copy() for name in columns}
    rng = np.random.default_rng(21)
    ids = [citizen_id for citizen_id, _ in store.citizens()]
    for n in range(60):  # the feed goes on while the snapshot is written
        store.upsert(_citizen(rng, n + 3000).model_copy(update={"citizen_id": ids[n]}))
        store.upsert(_citizen(rng, n + 4000))
    for citizen_id in ids[60:90]:
        store.erase(citizen_id)
    store.postings(("lexical", 4.0), _words).fill(store.text, store.text_ids())
    with np.load(io.BytesIO(_npz(columns))) as arrays:
        assert sorted(arrays.files) == sorted(at_capture)
        for name, column in at_capture.items():
            assert np.array_equal(arrays[name], column, equal_nan=column.dtype.kind == "f"), name
