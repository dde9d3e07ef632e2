"""EvidenceIndex: the one class FAISS sits behind.

Exact up to ``exact_max_items`` vectors (``IndexIDMap2(IndexFlatIP)``: inner product of unit
vectors = cosine); HNSW beyond (``IndexIDMap2(IndexHNSWSQ)`` with vectors stored as float16 by
default, ``IndexHNSWFlat`` with ``hnsw_storage="fp32"``; inner product either way). Ids are
int64 distinct-text ids (one vector per distinct normalised evidence text; the citizen store
maps texts to items and citizens). ``exact_scores`` gives the exact similarity of every (or
some) stored vector in one matrix product, whatever the kind: routing uses it while the
index is exact, and for the few texts an HNSW search did not return.

Removal, honestly:
- exact mode: ``remove_ids`` drops the vectors physically, at once.
- HNSW mode: FAISS HNSW cannot remove. A removed vector is overwritten with zeros in the
  index storage (so an erased citizen's vectors are gone from memory and from every later
  snapshot), its id is tombstoned and filtered out of searches with an ``IDSelector``, and
  ``needs_rebuild`` turns true once tombstones exceed ``rebuild_tombstone_ratio`` of the
  vectors; the owner then calls ``rebuilt()`` and swaps the result in.

Thread safety: reads (searches, exact scores, snapshots) share the instance's readers-writer
lock and run concurrently (FAISS searches and ONNX Runtime sessions are safe to share);
``add`` and ``remove`` take it alone, so a search never runs while vectors are added or
removed. Callers run ``search``/``add``/``remove`` in worker threads (they block for
milliseconds to seconds) and serialise mutations among themselves.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import faiss
import numpy as np
import numpy.typing as npt

from convene_matcher.index.half_products import half_products
from convene_matcher.locks import ReadWriteLock

Vectors = npt.NDArray[np.float32]
# A view of the stored vectors: float32, or float16 for an fp16 HNSW.
StoredVectors = npt.NDArray[np.float32] | npt.NDArray[np.float16]
Ids = npt.NDArray[np.int64]

INDEX_FILE = "index.faiss"
META_FILE = "index.json"
# Some faiss builds ship incomplete stubs (no SearchParametersHNSW): use it untyped.
_faiss: Any = faiss
# 2: ids are distinct-text ids (1: item ids, refused so the feed is replayed).
FORMAT_VERSION = 2


class IndexMismatchError(RuntimeError):
    """A snapshot or vectors made with another model version or dimension: never mixed."""


@dataclass(frozen=True)
class IndexParams:
    """Defaults chosen from measurements on the product's kind of vectors and real call
    embeddings. At 68,748 realistic texts (``bench/index_threshold.py --realistic``) M=32,
    efConstruction 100 gave recall@100 0.996 at efSearch 1024; at 1,155,343 texts (100,000
    citizens, bench/scale.py, then ``bench/index_recall.py`` and builds beside it, 300 calls)
    the same index gave only 0.914 (efSearch 1024) to 0.959 (8192): at a million texts the
    graph's build quality, not efSearch, was the limit. efConstruction 200: 0.944 / 0.970
    (efSearch 1024 / 2048); efConstruction 400: 0.972 / 0.980, 1.8 / 4.0 ms of CPU per
    query. So efConstruction 400 (a million-text build takes ~7 minutes on two cores instead
    of ~2, off the request path) and efSearch 3072 for a margin over 0.98."""

    exact_max_items: int = 200_000
    hnsw_m: int = 32
    hnsw_ef_search: int = 3072
    # efSearch for short label queries (a call's wanted skills, searched beside its text; at
    # least k). On the 100k run's index, 61 skill labels of bench calls: recall@100 0.988
    # (efSearch 512), 0.990 (1024), 0.991 (2000 and 3072), at 1.8 ms of CPU a query for
    # 1024 against 7.2 ms for 3072.
    hnsw_ef_search_labels: int = 1024
    # Routing's first search of a call's text: k and efSearch. Label hits score higher than
    # the text's (a label against equal skill labels), so in most calls the text's results
    # fall below retrieval's cut; the text (and a label) is searched again, deep, only when
    # its first results may reach the cut (retrieval.searched_texts). 100k run, 60 calls:
    # the retrieved texts' recall against exact retrieval 0.9853 (0.9863 when every query
    # was searched deep), index CPU per call 17.5 -> 7.2 ms, wall p50 10.2 -> 4.2 ms
    # (bench/retrieval_rounds.py).
    hnsw_probe_k: int = 256
    hnsw_ef_construction: int = 400
    rebuild_tombstone_ratio: float = 0.2
    # How an HNSW index stores its vectors. float16 halves the largest part of the matcher's
    # memory (1.7 GB -> 0.9 GB at 1.15M texts) for a rounding of about 1e-4 in a cosine
    # (bench/index_recall.py --rebuild fp16 measures recall and speed beside fp32). The
    # exact index keeps float32: it is small by definition.
    hnsw_storage: Literal["fp32", "fp16"] = "fp16"


def _products(storage: StoredVectors, positions: Ids | None, queries: Vectors) -> Vectors:
    """(queries, rows) inner products with the stored rows at ``positions`` (None: all).
    float16 storage: by ONNX Runtime (``half_products``: exact conversion, products in
    float32 as FAISS's own, without a float32 copy of the rows). float32, for a few queries:
    einsum (one thread, no BLAS): multi-threaded BLAS gemv spins against the model and other
    requests on a busy 2-core machine (measured: 0.1 ms vs 0.2 ms idle, several ms under
    load)."""
    if storage.dtype == np.float16:
        if positions is None:
            positions = np.arange(len(storage), dtype=np.int64)
        return half_products(cast(npt.NDArray[np.float16], storage), positions, queries)
    vectors = storage if positions is None else storage[positions]
    if len(queries) <= 8:
        result: Vectors = np.einsum("nd,qd->qn", vectors, queries)
        return result
    product: Vectors = (vectors @ queries.T).T
    return product


# Searches of a call's other queries (another efSearch) beside its first, in the caller's
# read hold of the index lock. Threads are made on demand and idle cost nothing.
_SEARCH_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="index-search")


def fsync_path(path: Path) -> None:
    """fsync of a file, or of a folder (its entries)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomically(path: Path, write: Callable[[Path], object], *, sync: bool) -> None:
    """``write(tmp)`` writes the file under a temporary name; it then replaces ``path``."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    write(tmp)
    if sync:
        fsync_path(tmp)
    os.replace(tmp, path)


class EvidenceIndex:
    def __init__(
        self,
        *,
        # The model version of every vector held (Embedder.cache_model: name, weights
        # digest, precision, text recipe); recorded in the snapshot metadata.
        model_name: str,
        dimension: int,
        params: IndexParams | None = None,
        kind: Literal["exact", "hnsw"] = "exact",
        seq: int = 0,
    ) -> None:
        self.model_name = model_name
        self.dimension = dimension
        self.params = params or IndexParams()
        self.kind: Literal["exact", "hnsw"] = kind
        self.seq = seq
        self._lock = ReadWriteLock()
        self._index: Any = self._empty(kind)
        # HNSW only: position of each live id in storage, and removed ids.
        self._positions: dict[int, int] = {}
        self._tombstones: set[int] = set()
        self._selector: Any = None
        # (stored ids in storage order, argsort of them, sorted ids): exact_scores of some
        # ids looks them up here instead of sorting a million ids per call (10 ms of CPU).
        self._lookup: tuple[Ids, Ids, Ids] | None = None

    # -- construction ------------------------------------------------------------------
    def _empty(self, kind: str) -> Any:
        if kind == "exact":
            return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dimension))
        hnsw: Any
        if self.params.hnsw_storage == "fp16":
            hnsw = _faiss.IndexHNSWSQ(  # the stubs want a ScalarQuantizer, FAISS a type
                self.dimension,
                faiss.ScalarQuantizer.QT_fp16,
                self.params.hnsw_m,
                faiss.METRIC_INNER_PRODUCT,
            )
        else:
            hnsw = faiss.IndexHNSWFlat(
                self.dimension, self.params.hnsw_m, faiss.METRIC_INNER_PRODUCT
            )
        hnsw.hnsw.efConstruction = self.params.hnsw_ef_construction
        hnsw.hnsw.efSearch = self.params.hnsw_ef_search
        return faiss.IndexIDMap2(hnsw)

    @classmethod
    def build(
        cls,
        *,
        model_name: str,
        dimension: int,
        ids: Ids,
        vectors: Vectors,
        params: IndexParams | None = None,
        seq: int = 0,
    ) -> EvidenceIndex:
        """A new index over (ids, vectors), exact or HNSW by size. Blocking."""
        params = params or IndexParams()
        kind: Literal["exact", "hnsw"] = "exact" if len(ids) <= params.exact_max_items else "hnsw"
        index = cls(model_name=model_name, dimension=dimension, params=params, kind=kind, seq=seq)
        index.add(ids, vectors, model=model_name)
        return index

    def rebuilt(self) -> EvidenceIndex:
        """A fresh index over this one's live vectors (drops tombstones, picks exact/HNSW)."""
        ids, vectors = self.live_vectors()
        return EvidenceIndex.build(
            model_name=self.model_name,
            dimension=self.dimension,
            ids=ids,
            vectors=vectors,
            params=self.params,
            seq=self.seq,
        )

    # -- internals ---------------------------------------------------------------------
    def _storage(self) -> StoredVectors:
        """A writable view of every stored vector, in storage order (float32, or float16
        when an HNSW stores its vectors so; a snapshot keeps the storage it was built with)."""
        inner: Any = faiss.downcast_index(self._index.index)
        flat: Any = inner if self.kind == "exact" else faiss.downcast_index(inner.storage)
        total = int(self._index.ntotal)
        if isinstance(flat, faiss.IndexScalarQuantizer):
            if int(flat.code_size) != 2 * self.dimension:
                raise IndexMismatchError("only float16 scalar-quantised storage is supported")
            if total == 0:
                return np.empty((0, self.dimension), dtype=np.float16)
            codes = faiss.rev_swig_ptr(flat.codes.data(), total * int(flat.code_size))
            half: npt.NDArray[np.float16] = codes.view(np.float16)
            return half.reshape(total, self.dimension)
        if total == 0:
            return np.empty((0, self.dimension), dtype=np.float32)
        view: Vectors = faiss.rev_swig_ptr(flat.get_xb(), total * self.dimension)
        return view.reshape(total, self.dimension)

    def _reserve_growth(self) -> None:
        """Doubles the capacity of the stored vectors (and the HNSW graph's neighbour
        lists) now, while the process is small. A loaded index holds them at their exact
        size, so the first vector the feed adds makes the C++ vector copy itself into a buffer
        twice as large: at 1.16M float16 vectors that lifted the matcher's peak RSS by
        853 MB after loading (3.55 -> 4.68 GB at 100,000 citizens). Growing by one element
        and back keeps the doubled capacity; its untouched pages take no memory."""
        inner: Any = faiss.downcast_index(self._index.index)
        flat: Any = inner if self.kind == "exact" else faiss.downcast_index(inner.storage)
        vectors = [flat.codes] + ([] if self.kind == "exact" else [inner.hnsw.neighbors])
        for vector in vectors:
            size = int(vector.size())
            if size:
                vector.resize(size + 1)
                vector.resize(size)

    @property
    def storage(self) -> str:
        """How the vectors are held: "fp32" or "fp16"."""
        with self._lock.read():
            return "fp16" if self._storage().dtype == np.float16 else "fp32"

    def _stored_ids(self) -> Ids:
        ids: Ids = faiss.vector_to_array(self._index.id_map).astype(np.int64, copy=False)
        return ids

    def _check(self, vectors: Vectors) -> Vectors:
        array = np.ascontiguousarray(vectors, dtype=np.float32)
        if array.ndim != 2 or array.shape[1] != self.dimension:
            raise ValueError(f"vectors must have shape (n, {self.dimension})")
        return array

    # -- public API --------------------------------------------------------------------
    @property
    def count(self) -> int:
        """Live (searchable) vectors."""
        return int(self._index.ntotal) - len(self._tombstones)

    @property
    def tombstones(self) -> int:
        return len(self._tombstones)

    @property
    def needs_rebuild(self) -> bool:
        with self._lock.read():
            total = int(self._index.ntotal)
            if self.kind == "exact":
                return total > self.params.exact_max_items
            if total and len(self._tombstones) > self.params.rebuild_tombstone_ratio * total:
                return True
            # Shrunk well below the threshold: exact search is both exact and cheap again.
            return self.count < self.params.exact_max_items // 2

    def require_model(self, model: str) -> None:
        """Refuses vectors (or query vectors) of another model version than the index's:
        routing never compares, and the index never holds, vectors of two models."""
        if model != self.model_name:
            raise IndexMismatchError(f"vectors of {model} refused by an index of {self.model_name}")

    def add(self, ids: Ids, vectors: Vectors, *, model: str) -> None:
        """Adds vectors (made by ``model``, which must be the index's model version) under
        ids never used before in this index (the store allocates them)."""
        self.require_model(model)
        array = self._check(vectors)
        id_array = np.ascontiguousarray(ids, dtype=np.int64)
        if len(id_array) != len(array):
            raise ValueError("ids and vectors differ in length")
        if not len(id_array):
            return
        with self._lock.write():
            start = int(self._index.ntotal)
            self._index.add_with_ids(array, id_array)
            self._lookup = None
            if self.kind == "hnsw":
                for offset, item_id in enumerate(id_array.tolist()):
                    self._positions[item_id] = start + offset
                    self._tombstones.discard(item_id)

    def remove(self, ids: Ids) -> int:
        """Removes ids (unknown ids are ignored); returns how many were present."""
        id_array = np.ascontiguousarray(ids, dtype=np.int64)
        if not len(id_array):
            return 0
        with self._lock.write():
            if self.kind == "exact":
                self._lookup = None
                return int(self._index.remove_ids(id_array))
            storage = self._storage()
            removed = 0
            for item_id in id_array.tolist():
                position = self._positions.pop(item_id, None)
                if position is None:
                    continue
                storage[position] = 0.0  # the vector itself is gone, not only hidden
                self._tombstones.add(item_id)
                removed += 1
            if removed:
                self._selector = None
            return removed

    def search(
        self,
        queries: Vectors,
        k: int | Sequence[int],
        *,
        ef_search: Sequence[int] | None = None,
    ) -> tuple[Vectors, Ids]:
        """Top-k (similarity, item id) per query; missing slots have id -1, score -inf.
        ``k`` is one for all queries or one per query (rows are as wide as the largest).
        HNSW: ``ef_search`` gives each query's efSearch (at least its k; default the
        index's); a call's queries are searched concurrently (one FAISS call each)."""
        array = self._check(queries)
        if ef_search is not None and len(ef_search) != len(array):
            raise ValueError("one efSearch per query")
        ks = [k] * len(array) if isinstance(k, int) else list(k)
        if len(ks) != len(array):
            raise ValueError("one k per query")
        with self._lock.read():
            ks = [max(1, min(each, self.count)) if self.count else 1 for each in ks]
            width = max(ks, default=1)
            if self.kind == "exact":
                scores, ids = self._index.search(array, width)
                scores, ids = np.asarray(scores), np.asarray(ids)
                for row, each in enumerate(ks):
                    ids[row, each:] = -1
            else:
                scores, ids = self._search_hnsw(array, ks, width, ef_search)
        scores = np.asarray(scores, dtype=np.float32)
        ids = np.asarray(ids, dtype=np.int64)
        scores[ids < 0] = -np.inf
        return scores, ids

    def _search_hnsw(
        self, array: Vectors, ks: list[int], width: int, ef_search: Sequence[int] | None
    ) -> tuple[Vectors, Ids]:
        selector = self._selector  # a local reference: FAISS holds a raw pointer to it
        if self._tombstones and selector is None:
            batch = faiss.IDSelectorBatch(
                np.fromiter(self._tombstones, dtype=np.int64, count=len(self._tombstones))
            )
            selector = self._selector = (faiss.IDSelectorNot(batch), batch)
        efs = [
            max(ef, k)
            for ef, k in zip(
                ef_search or [self.params.hnsw_ef_search] * len(array), ks, strict=True
            )
        ]

        def search_one(row: int) -> tuple[int, Vectors, Ids]:
            params = _faiss.SearchParametersHNSW()
            params.efSearch = efs[row]
            if selector is not None:
                params.sel = selector[0]
            found_scores, found_ids = self._index.search(
                array[row : row + 1], ks[row], params=params
            )
            return row, found_scores[0], found_ids[0]

        # The costliest query (highest efSearch) here, the others in the shared pool: one
        # FAISS call each, so a call's label queries share the cores too.
        rows = sorted(range(len(array)), key=lambda row: -efs[row])
        pending = [_SEARCH_POOL.submit(search_one, row) for row in rows[1:]]
        results = [search_one(rows[0]), *(future.result() for future in pending)]
        scores = np.full((len(array), width), -np.inf, dtype=np.float32)
        ids = np.full((len(array), width), -1, dtype=np.int64)
        for row, found_scores, found_ids in results:
            scores[row, : ks[row]], ids[row, : ks[row]] = found_scores, found_ids
        return scores, ids

    def exact_scores(self, queries: Vectors, ids: Ids | None = None) -> tuple[Ids, Vectors]:
        """(ids, similarities of shape (queries, ids)) by one matrix product over the stored
        vectors: all live ones, or those of ``ids`` (ids not stored are left out)."""
        array = self._check(queries)
        with self._lock.read():
            storage = self._storage()
            if ids is None:
                stored = self._stored_ids()
                if self._tombstones:
                    tomb = np.fromiter(self._tombstones, dtype=np.int64)
                    positions = np.flatnonzero(~np.isin(stored, tomb))
                    found = stored[positions]
                    scores = _products(storage, positions, array)
                else:
                    found = stored.copy()
                    scores = _products(storage, None, array)
            else:
                wanted = np.asarray(ids, dtype=np.int64)
                lookup = self._lookup  # concurrent readers may both build it: same value
                if lookup is None:
                    stored = self._stored_ids()
                    order = np.argsort(stored, kind="stable")
                    lookup = self._lookup = (stored, order, stored[order])
                stored, order, ordered = lookup
                place = np.searchsorted(ordered, wanted)
                place = np.minimum(place, max(len(order) - 1, 0))
                hit = (
                    ordered[place] == wanted
                    if len(order)
                    else np.zeros(len(wanted), dtype=np.bool_)
                )
                positions = order[place[hit]]
                found = wanted[hit]
                scores = _products(storage, positions, array)
        return found, np.asarray(scores, dtype=np.float32)

    def live_vectors(self) -> tuple[Ids, Vectors]:
        """Copies of every live (id, vector)."""
        with self._lock.read():
            ids = self._stored_ids().copy()
            vectors = self._storage().astype(np.float32)  # a copy, float32 whatever the storage
        if self._tombstones:
            keep = ~np.isin(ids, np.fromiter(self._tombstones, dtype=np.int64))
            ids, vectors = ids[keep], vectors[keep]
        return ids, vectors

    def metadata(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "model_name": self.model_name,
            "dimension": self.dimension,
            "kind": self.kind,
            "storage": "fp16" if self._storage().dtype == np.float16 else "fp32",
            "seq": self.seq,
            "count": self.count,
            "stored": int(self._index.ntotal),
            "tombstones": sorted(self._tombstones),
        }

    def save(self, directory: Path, *, sync: bool = True) -> None:
        """Writes index.faiss and index.json into directory, each atomically and consistent
        with each other; ``sync=False`` leaves the fsync to the caller. Blocking.

        FAISS writes the file straight from the index, under the read side of the lock
        (searches go on; adds and removals wait): at 100k citizens 2.9 s, where serialising
        it into memory first took 4.9 s and its growing buffer and copy added 2.4 GB to the
        process's peak."""
        directory.mkdir(parents=True, exist_ok=True)
        with self._lock.read():
            meta = self.metadata()
            _write_atomically(
                directory / INDEX_FILE,
                lambda tmp: faiss.write_index(self._index, str(tmp)),
                sync=sync,
            )
        _write_atomically(
            directory / META_FILE, lambda tmp: tmp.write_text(json.dumps(meta)), sync=sync
        )

    @classmethod
    def load(
        cls,
        directory: Path,
        *,
        model_name: str,
        dimension: int,
        params: IndexParams | None = None,
    ) -> EvidenceIndex:
        """Loads a saved index; refuses one made with another model or dimension."""
        meta = json.loads((directory / META_FILE).read_text())
        if meta.get("format") != FORMAT_VERSION:
            raise IndexMismatchError(f"index format {meta.get('format')} is not supported")
        if meta["model_name"] != model_name or meta["dimension"] != dimension:
            raise IndexMismatchError(
                f"snapshot made with {meta['model_name']} ({meta['dimension']} dimensions), "
                f"the service runs {model_name} ({dimension})"
            )
        # Read by FAISS from the file: reading the bytes first would hold the index twice.
        loaded: Any = faiss.read_index(str(directory / INDEX_FILE))
        index = cls(
            model_name=model_name,
            dimension=dimension,
            params=params,
            kind=meta["kind"],
            seq=int(meta["seq"]),
        )
        index._index = loaded
        if int(loaded.d) != dimension or int(loaded.ntotal) != int(meta["stored"]):
            raise IndexMismatchError("the index file does not match its metadata")
        index._reserve_growth()
        if index.kind == "hnsw":
            hnsw: Any = faiss.downcast_index(loaded.index)
            hnsw.hnsw.efSearch = index.params.hnsw_ef_search
            index._tombstones = {int(i) for i in meta["tombstones"]}
            index._positions = {
                int(item_id): position
                for position, item_id in enumerate(index._stored_ids().tolist())
                if int(item_id) not in index._tombstones
            }
        return index
