"""Index + store snapshots under one seq, committed atomically.

Layout of ``index_dir``::

    CURRENT                 name of the committed snapshot folder (replaced atomically)
    snap-<seq>-<ns>/        index.faiss, index.json (EvidenceIndex.save), store.json

A snapshot is written to a temporary folder, fsynced, renamed into place and only then named
in CURRENT; older folders are removed afterwards. A crash at any point leaves the previous
snapshot usable.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

from convene_matcher.citizens.store import CitizenStore
from convene_matcher.index.evidence_index import EvidenceIndex, IndexMismatchError, IndexParams

logger = logging.getLogger("convene.matcher.snapshot")

CURRENT = "CURRENT"
STORE_FILE = "store.json"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_snapshot(index_dir: Path, *, index: EvidenceIndex, store: CitizenStore) -> Path:
    """Writes index and store (which must reflect the same seq). Blocking."""
    if index.seq != store.seq:
        raise ValueError(f"index at seq {index.seq} and store at seq {store.seq} differ")
    index_dir.mkdir(parents=True, exist_ok=True)
    name = f"snap-{store.seq}-{time.time_ns()}"
    tmp = index_dir / f".tmp-{name}"
    tmp.mkdir()
    try:
        index.save(tmp)
        with open(tmp / STORE_FILE, "w", encoding="utf-8") as handle:
            json.dump(store.to_json(), handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        _fsync_dir(tmp)
        final = index_dir / name
        os.replace(tmp, final)
        pointer = index_dir / f".{CURRENT}.tmp"
        pointer.write_text(name)
        os.replace(pointer, index_dir / CURRENT)
        _fsync_dir(index_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in index_dir.iterdir():
        if old.name != name and (old.name.startswith("snap-") or old.name.startswith(".tmp-")):
            shutil.rmtree(old, ignore_errors=True)
    return final


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
        data = json.load(handle)
    try:
        store = CitizenStore.from_json(data)
    except ValueError as exc:  # an older store format: replay the feed instead
        logger.warning("snapshot ignored: %s", exc)
        return None
    if store.seq != index.seq:
        logger.warning("snapshot ignored: index and store seq differ")
        return None
    return index, store
