"""Index + store snapshots under one seq, committed atomically.

Layout of ``index_dir``::

    CURRENT                 name of the committed snapshot folder (replaced atomically)
    snap-<seq>-<ns>/        index.faiss, index.json (EvidenceIndex.save), store.json + store.npz

While mutations are held off, ``capture_snapshot`` writes the index into a temporary folder
(FAISS straight from memory) and takes the store's columns (about 3 s at 100k citizens);
``write_snapshot`` then writes the store beside it with no lock, so the feed goes on
meanwhile.

The temporary folder is fsynced, renamed into place and only then named in CURRENT; older
folders are removed afterwards. A crash at any point leaves the previous snapshot usable.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from convene_matcher.citizens.saved_columns import SavedColumns
from convene_matcher.citizens.store import READABLE_STORE_FORMATS, CitizenStore
from convene_matcher.index.evidence_index import (
    EvidenceIndex,
    IndexMismatchError,
    IndexParams,
    fsync_path,
)

logger = logging.getLogger("convene.matcher.snapshot")

CURRENT = "CURRENT"
STORE_FILE = "store.json"  # metadata: seq, ids, texts, attributes, source ids
STORE_ARRAYS_FILE = "store.npz"  # numpy columns: snapshots (JSON bytes), items


def _taken(name: str) -> tuple[int, int]:
    """(seq, ns) of a snapshot folder's name (``snap-<seq>-<ns>``, maybe behind ``.tmp-``)."""
    _, seq, ns = name.removeprefix(".tmp-").split("-")
    return int(seq), int(ns)


@dataclass(frozen=True, slots=True)
class CapturedSnapshot:
    """Index and store at one seq, ready to be finished without any lock: the index already
    written (not yet fsynced) into ``folder``, the store's columns taken (``SavedColumns``).
    Finish it with ``write_snapshot`` or ``discard`` it."""

    seq: int
    name: str  # snap-<seq>-<ns>: captures are ordered by (seq, ns)
    folder: Path  # index_dir / .tmp-<name>
    store_meta: dict[str, Any]
    store_arrays: SavedColumns  # the large columns are built as they are written

    @property
    def taken(self) -> tuple[int, int]:
        return _taken(self.name)

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def capture_snapshot(
    index_dir: Path, *, index: EvidenceIndex, store: CitizenStore
) -> CapturedSnapshot:
    """Writes the index into a temporary folder and takes the store's columns, while
    mutations are held off (index and store must reflect the same seq): about 3 s at 100k
    citizens, most of it FAISS writing the index straight from memory (a copy of it in
    memory first added 2.4 GB to the peak)."""
    if index.seq != store.seq:
        raise ValueError(f"index at seq {index.seq} and store at seq {store.seq} differ")
    index_dir.mkdir(parents=True, exist_ok=True)
    name = f"snap-{store.seq}-{time.time_ns()}"
    folder = index_dir / f".tmp-{name}"
    folder.mkdir()
    try:
        index.save(folder, sync=False)
        store_meta, store_arrays = store.columns()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return CapturedSnapshot(store.seq, name, folder, store_meta, store_arrays)


def write_snapshot(index_dir: Path, captured: CapturedSnapshot) -> Path:
    """Writes the captured store beside its index, fsyncs and commits the snapshot
    atomically. Blocking; needs no lock. Removes the older snapshots, and the folders of
    captures taken before this one (left by a crash, or discarded): a capture taken since
    may be on its way and is left alone."""
    tmp = captured.folder
    try:
        with open(tmp / STORE_ARRAYS_FILE, "wb") as handle:
            captured.store_arrays.write_npz(handle)
            handle.flush()
            os.fsync(handle.fileno())
        with open(tmp / STORE_FILE, "w", encoding="utf-8") as handle:
            json.dump(captured.store_meta, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        for written in tmp.iterdir():  # the index files, written unsynced by the capture
            fsync_path(written)
        fsync_path(tmp)
        final = index_dir / captured.name
        os.replace(tmp, final)
        pointer = index_dir / f".{CURRENT}.tmp"
        pointer.write_text(captured.name)
        os.replace(pointer, index_dir / CURRENT)
        fsync_path(index_dir)
    except BaseException:
        captured.discard()
        raise
    for old in index_dir.iterdir():
        if old.name == captured.name:
            continue
        if old.name.startswith("snap-") or (
            old.name.startswith(".tmp-snap-") and _taken(old.name) < captured.taken
        ):
            shutil.rmtree(old, ignore_errors=True)
    return final


def save_snapshot(index_dir: Path, *, index: EvidenceIndex, store: CitizenStore) -> Path:
    """Writes index and store (which must reflect the same seq). Blocking."""
    return write_snapshot(index_dir, capture_snapshot(index_dir, index=index, store=store))


def load_snapshot(
    index_dir: Path, *, model_name: str, dimension: int, params: IndexParams
) -> tuple[EvidenceIndex, CitizenStore] | None:
    """The committed snapshot, or None when there is none or it was made by another model."""
    pointer = index_dir / CURRENT
    if not pointer.exists():
        return None
    folder = index_dir / pointer.read_text().strip()
    try:
        index = EvidenceIndex.load(
            folder, model_name=model_name, dimension=dimension, params=params
        )
    except IndexMismatchError as exc:
        logger.warning("snapshot ignored: %s", exc)
        return None
    with open(folder / STORE_FILE, encoding="utf-8") as handle:
        meta = json.load(handle)
    try:
        if meta.get("format") not in READABLE_STORE_FORMATS:
            raise ValueError(f"store format {meta.get('format')} is not supported")
        # The NpzFile itself, not a dict of its columns: it reads a column when asked, so
        # ``from_columns`` holds one at a time (all at once added 1.4 GB to the peak at 100k).
        with np.load(folder / STORE_ARRAYS_FILE) as arrays:
            store = CitizenStore.from_columns(meta, arrays)
    except ValueError as exc:  # an older store format: replay the feed instead
        logger.warning("snapshot ignored: %s", exc)
        return None
    if store.seq != index.seq:
        logger.warning("snapshot ignored: index and store seq differ")
        return None
    return index, store
