"""EvidenceService: the index, the citizen store and the embedder, kept in step.

This is the object routing builds on (``app.state.evidence``); it imports no routing:

- ``await evidence.search(query_vectors, k)`` -> (scores, item_ids) per query, run off the
  event loop in a bounded worker; never concurrent with an index mutation.
- ``evidence.store`` (CitizenStore): filter attributes and item_id -> EvidenceItem.
- ``evidence.embedder`` (Embedder): ``await embedder.embed([...], pool=pool)``.
- ``evidence.index`` (EvidenceIndex): read ``count``, ``kind``, ``seq``; do not mutate.
- ``await evidence.apply_changes(changes)``: the feed consumer's entry point (idempotent by
  seq); ``await evidence.rebuild()``; ``await evidence.save_snapshot()``.

Mutations (apply, rebuild) hold ``self._mutation`` (an asyncio.Lock); the blocking FAISS parts
of a mutation and of a search also hold the index's own lock, so a search never meets a
half-applied add. A rebuild builds a new EvidenceIndex aside and swaps the reference.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import anyio
import asyncpg
import numpy as np

from convene_matcher.citizens.schemas import Change
from convene_matcher.citizens.store import CitizenStore
from convene_matcher.embedding import repository as embedding_repository
from convene_matcher.embedding.embedder import Embedder, Vectors
from convene_matcher.embedding.text import normalise_text, text_key
from convene_matcher.evidence.items import ItemDraft, drafts_from_snapshot
from convene_matcher.index.evidence_index import (
    EvidenceIndex,
    Ids,
    IndexMismatchError,
    IndexParams,
)
from convene_matcher.index.snapshot import capture_snapshot, load_snapshot, write_snapshot
from convene_matcher.privacy import repository as privacy_repository

ROUTE_WORKERS = 4

logger = logging.getLogger("convene.matcher.evidence")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SwitchResult:
    added: int
    dropped: int
    seq: int


@dataclass(frozen=True, slots=True)
class ApplyResult:
    applied: int
    skipped: int
    added_vectors: int
    removed_vectors: int
    erased: int


class EvidenceService:
    def __init__(
        self,
        *,
        embedder: Embedder,
        pool: asyncpg.Pool[Any] | None,
        index_dir: Path,
        params: IndexParams,
        warm_up: Callable[[], None] | None = None,
        on_texts_added: Callable[[Ids], Awaitable[object]] | None = None,
    ) -> None:
        """``warm_up``: blocking work to pay at load time rather than on the first request
        (main passes routing's), so the index does not import its consumers.
        ``on_texts_added``: awaited with the ids of the texts a page of changes added, once
        store and index hold them and the page's lock is released (main vectorises them for
        routing's lexical postings, which the first calls to meet them paid for otherwise)."""
        self.embedder = embedder
        self._warm_up = warm_up
        self.on_texts_added = on_texts_added
        self.pool = pool
        self.index_dir = index_dir
        self.params = params
        self.store = CitizenStore()
        self.index = EvidenceIndex(
            model_name=embedder.cache_model, dimension=embedder.dimension, params=params
        )
        self._mutation = asyncio.Lock()
        self._snapshot_write = asyncio.Lock()
        self._written_taken = (-1, -1)  # CapturedSnapshot.taken of the last written
        self._written_path: Path | None = None
        # Routes (and searches) running at once in worker threads. Not one per core: a route
        # keeps one core busy while it waits for its exact scores or runs Python alone, so
        # with two at a time 4 clients kept 1.47 of the 2 cores busy at 100,000 citizens
        # (bench/scale_million.py --copies 1). Bounded, so a long HNSW build never starves.
        self._search_limiter = anyio.CapacityLimiter(ROUTE_WORKERS)
        self.changes_since_snapshot = 0
        self.erasures_since_snapshot = 0
        self.last_snapshot_at = time.monotonic()
        self.last_snapshot_seq: int | None = None
        self.loaded_from_snapshot = False

    @property
    def seq(self) -> int:
        return self.store.seq

    def generation(self) -> tuple[Embedder, EvidenceIndex]:
        """The embedder and the index of one model version, read together (a model switch
        replaces both in one step, with no await between)."""
        return self.embedder, self.index

    # -- start-up / persistence --------------------------------------------------------
    async def load(self) -> bool:
        """Loads the committed snapshot if there is one for this model; True if loaded.
        Also runs ``warm_up`` (routing's first call would otherwise pay for loading tables)."""
        if self._warm_up is not None:
            await anyio.to_thread.run_sync(self._warm_up)
        loaded = await anyio.to_thread.run_sync(
            lambda: load_snapshot(
                self.index_dir,
                model_name=self.embedder.cache_model,
                dimension=self.embedder.dimension,
                params=self.params,
            )
        )
        if loaded is None:
            return False
        self.index, self.store = loaded
        # The loaded store is millions of long-lived objects (items, records): left to the
        # collector, each full collection walks them all while every request waits (at
        # 100,000 citizens: bench/snapshot_load.py). Frozen, collections skip them; they
        # are still freed by reference counting when the store lets them go.
        gc.freeze()
        self.last_snapshot_seq = self.store.seq
        self.loaded_from_snapshot = True
        logger.info(
            "snapshot loaded",
            extra={"seq": self.store.seq, "items": self.index.count, "citizens": len(self.store)},
        )
        return True

    async def save_snapshot(self) -> Path:
        async with self._mutation:
            index, store = self.index, self.store
            # Captured under the mutation lock, index and store are at one seq; the store
            # is written after the lock is released, so the feed is held off only briefly.
            captured = await anyio.to_thread.run_sync(
                lambda: capture_snapshot(self.index_dir, index=index, store=store)
            )
            self.changes_since_snapshot = 0
            self.erasures_since_snapshot = 0
            self.last_snapshot_at = time.monotonic()
        async with self._snapshot_write:  # one writer at a time, never an older copy last
            if self._written_path is not None and captured.taken < self._written_taken:
                # A later capture is written already (and has removed this one's folder).
                captured.discard()
                return self._written_path
            path = await anyio.to_thread.run_sync(lambda: write_snapshot(self.index_dir, captured))
            self._written_taken, self._written_path = captured.taken, path
            self.last_snapshot_seq = captured.seq
        logger.info("snapshot saved", extra={"seq": captured.seq, "items": index.count})
        return path

    # -- reads -------------------------------------------------------------------------
    async def search(self, queries: Vectors, k: int) -> tuple[Vectors, Ids]:
        index = self.index  # a rebuild may swap the reference; this search keeps its own
        return await anyio.to_thread.run_sync(
            index.search, queries, k, limiter=self._search_limiter
        )

    async def run_search_work(self, work: Callable[[], T]) -> T:
        """Runs blocking index/array work (routing's) in the bounded search worker."""
        return await anyio.to_thread.run_sync(work, limiter=self._search_limiter)

    # -- feed --------------------------------------------------------------------------
    async def apply_changes(self, changes: Sequence[Change]) -> ApplyResult:
        """Applies a page of changes in seq order; a seq at or below the store's is skipped.

        New distinct texts of the whole page are embedded together (cache first) and an
        erased citizen's matcher rows (``privacy.repository.erase_citizens``: every table
        holding them, and the cached vectors of texts only they held) are deleted before
        anything in memory is mutated, so a failure leaves store and index untouched at the
        previous seq (and a retry is harmless). Vectors are per distinct text: added when a
        text gets its first item, removed when it loses its last.
        """
        async with self._mutation:
            pending = sorted((c for c in changes if c.seq > self.store.seq), key=lambda c: c.seq)
            skipped = len(changes) - len(pending)
            if not pending:
                return ApplyResult(0, skipped, 0, 0, 0)
            drafts: dict[int, list[ItemDraft]] = {}
            texts: dict[str, None] = {}
            erased_ids: list[str] = []
            for change in pending:
                if change.kind == "upsert" and change.snapshot is not None:
                    page_drafts = drafts_from_snapshot(change.snapshot)
                    drafts[change.seq] = page_drafts
                    for draft in page_drafts:
                        normalised = normalise_text(draft.text)
                        if (
                            normalised not in texts
                            and self.store.normalised_text_id(normalised) is None
                        ):
                            texts[normalised] = None
                else:
                    erased_ids.append(change.citizen_id)
            text_list = list(texts)
            vectors = await self.embedder.embed(text_list, pool=self.pool)
            vector_of = dict(zip(text_list, vectors, strict=True))
            if erased_ids and self.pool is not None:
                unique_keys = [text_key(text) for text in self._unique_texts(erased_ids)]
                async with self.pool.acquire() as connection, connection.transaction():
                    await privacy_repository.erase_citizens(
                        connection,
                        citizen_ids=erased_ids,
                        cache_model=self.embedder.cache_model,
                        text_keys=unique_keys,
                    )
                self.embedder.forget(unique_keys)

            added_texts: dict[int, str] = {}
            to_remove: list[int] = []
            erased = 0
            for change in pending:
                if change.kind == "erase" or change.snapshot is None:
                    result = self.store.erase(change.citizen_id)
                    erased += 1
                else:
                    result = self.store.upsert(change.snapshot, drafts[change.seq])
                for text_id, normalised in result.new_texts:
                    added_texts[text_id] = normalised
                for text_id in result.dropped_texts:
                    # Added and dropped within this page: it never reaches the index.
                    if added_texts.pop(text_id, None) is None:
                        to_remove.append(text_id)
            # The store is the authority on which texts are new: any it reports that the
            # pre-scan missed are embedded now, so store and index never disagree.
            missing = [n for n in dict.fromkeys(added_texts.values()) if n not in vector_of]
            if missing:
                logger.warning("texts embedded late", extra={"count": len(missing)})
                late = await self.embedder.embed(missing, pool=self.pool)
                vector_of.update(zip(missing, late, strict=True))
            to_add = {text_id: vector_of[n] for text_id, n in added_texts.items()}
            last_seq = pending[-1].seq
            index = self.index
            add_ids = np.fromiter(to_add, dtype=np.int64, count=len(to_add))
            add_vectors = (
                np.stack(list(to_add.values()))
                if to_add
                else np.empty((0, index.dimension), dtype=np.float32)
            )

            model = self.embedder.cache_model

            def mutate() -> None:
                index.remove(np.asarray(to_remove, dtype=np.int64))
                index.add(add_ids, add_vectors, model=model)
                index.seq = last_seq

            await anyio.to_thread.run_sync(mutate)
            self.store.seq = last_seq
            self.changes_since_snapshot += len(pending)
            self.erasures_since_snapshot += erased
            needs_rebuild = index.needs_rebuild
        if needs_rebuild:
            await self.compact()
        if len(add_ids) and self.on_texts_added is not None:
            await self.on_texts_added(add_ids)
        return ApplyResult(len(pending), skipped, len(to_add), len(to_remove), erased)

    def _unique_texts(self, citizen_ids: list[str]) -> list[str]:
        """Normalised texts that only these citizens' items hold (their cached vectors are
        theirs alone and go with them; a text anyone else holds stays)."""
        held: Counter[int] = Counter()
        for citizen_id in citizen_ids:
            held.update(item.text_id for item in self.store.items_of(citizen_id))
        unique = []
        for text_id, count in held.items():
            text = self.store.text(text_id)
            if text is not None and count >= self.store.text_refs(text_id):
                unique.append(text)
        return unique

    async def skip_change(self, seq: int) -> None:
        """Moves past a change that cannot be applied (the consumer logged it): without this a
        poison change would stall the feed forever. Store and index keep their state."""
        async with self._mutation:
            if seq > self.store.seq:
                self.store.seq = seq
                self.index.seq = seq
                self.changes_since_snapshot += 1

    # -- model switch (reembed/) --------------------------------------------------------
    async def switch_model(
        self, *, embedder: Embedder, index: EvidenceIndex, texts: dict[int, str]
    ) -> SwitchResult:
        """Makes ``index`` (built aside by a re-embedding job from ``texts``: text id ->
        normalised text, all with ``embedder``) current, with ``embedder``, in one step.

        Under the mutation lock, first catches it up with what the feed changed since the
        job read the store: texts added are embedded with the new embedder, texts dropped
        are removed (and their new-model cache rows deleted: an erased citizen's texts may
        be among them). Then both references are replaced with no await between, so a
        request sees the old pair or the new one, never one of each."""
        if index.model_name != embedder.cache_model:
            raise IndexMismatchError("the new index was not built by the new embedder")
        async with self._mutation:
            live_ids = self.store.text_ids().tolist()
            live = set(live_ids)
            added = [text_id for text_id in live_ids if text_id not in texts]
            dropped = [text_id for text_id in texts if text_id not in live]
            vectors = await embedder.embed(
                [cast(str, self.store.text(t)) for t in added], pool=self.pool
            )
            if dropped and self.pool is not None:
                keys = [text_key(texts[t]) for t in dropped]
                async with self.pool.acquire() as connection:
                    await embedding_repository.delete_vectors(
                        connection, model=embedder.cache_model, keys=keys
                    )
                embedder.forget(keys)
            seq = self.store.seq

            def catch_up() -> None:
                index.remove(np.asarray(dropped, dtype=np.int64))
                index.add(np.asarray(added, dtype=np.int64), vectors, model=embedder.cache_model)
                index.seq = seq

            await anyio.to_thread.run_sync(catch_up)
            old = self.index.model_name
            self.embedder, self.index = embedder, index
            self.changes_since_snapshot += 1  # the next snapshot is of the new model
        logger.info(
            "embedding model switched",
            extra={"from": old, "to": index.model_name, "items": index.count},
        )
        return SwitchResult(added=len(added), dropped=len(dropped), seq=seq)

    # -- rebuilds ----------------------------------------------------------------------
    async def compact(self) -> None:
        """Rebuilds from the index's own live vectors (drops tombstones; exact <-> HNSW)."""
        async with self._mutation:
            fresh = await anyio.to_thread.run_sync(self.index.rebuilt)
            self.index = fresh
        logger.info("index compacted", extra={"kind": fresh.kind, "items": fresh.count})

    async def rebuild(self) -> EvidenceIndex:
        """Builds a fresh index over the store's distinct texts (re-embedding only what no
        cache holds)."""
        async with self._mutation:
            # In a worker: texts are normalised as they are read (14.6 s at 1.16M texts); the
            # mutation lock keeps the feed from changing the store meanwhile.
            texts = await anyio.to_thread.run_sync(lambda: list(self.store.texts()))
            vectors = await self.embedder.embed([text for _, text in texts], pool=self.pool)
            ids = np.fromiter((text_id for text_id, _ in texts), dtype=np.int64, count=len(texts))
            seq = self.store.seq
            fresh = await anyio.to_thread.run_sync(
                lambda: EvidenceIndex.build(
                    model_name=self.embedder.cache_model,
                    dimension=self.embedder.dimension,
                    ids=ids,
                    vectors=vectors,
                    params=self.params,
                    seq=seq,
                )
            )
            self.index = fresh
        logger.info("index rebuilt", extra={"kind": fresh.kind, "items": fresh.count})
        return fresh
