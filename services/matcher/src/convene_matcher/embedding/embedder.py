"""The embedder: one model, one bounded worker, a memory + PostgreSQL cache."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import anyio
import asyncpg
import numpy as np
import numpy.typing as npt

from convene_common.observability import current_metrics
from convene_matcher.embedding import repository
from convene_matcher.embedding.text import chunk_text, normalise_text, text_key

logger = logging.getLogger("convene.matcher.embedding")

Vectors = npt.NDArray[np.float32]


def cache_model_name(model_version: str, *, chunk_words: int | None = None) -> str:
    """The key vectors are recorded under: model version and text recipe."""
    recipe = f"chunks{chunk_words}" if chunk_words else "whole"
    return f"{model_version}|{recipe}"


class SentenceModel(Protocol):
    """The part of sentence_transformers.SentenceTransformer the embedder uses."""

    def encode(self, sentences: list[str], **kwargs: Any) -> Any: ...

    def get_embedding_dimension(self) -> int | None: ...


def load_sentence_transformer(model_path: Path, *, torch_threads: int) -> SentenceModel:
    """Loads a local sentence-transformers folder; never reaches a model hub. Blocking."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from sentence_transformers import SentenceTransformer

    # DESIGN.md: with default threads and a competing process torch fell to ~2 texts/s.
    torch.set_num_threads(torch_threads)
    model: SentenceModel = SentenceTransformer(str(model_path), device="cpu")  # type: ignore[assignment]
    return model


class _MemoryCache:
    """A bounded LRU of text key -> vector; thread-safe (used from the loop and workers)."""

    def __init__(self, max_entries: int) -> None:
        self._max = max_entries
        self._entries: OrderedDict[bytes, Vectors] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes) -> Vectors | None:
        with self._lock:
            vector = self._entries.get(key)
            if vector is not None:
                self._entries.move_to_end(key)
            return vector

    def put(self, key: bytes, vector: Vectors) -> None:
        if self._max == 0:
            return
        with self._lock:
            self._entries[key] = vector
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def discard(self, keys: Sequence[bytes]) -> None:
        with self._lock:
            for key in keys:
                self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)


class Embedder:
    """Normalised float32 sentence vectors for texts, embedding each distinct text once.

    A text longer than ``chunk_words`` words is embedded as the normalised mean of its whole
    vector (the model truncates at 256 word pieces) and the vectors of its sentence chunks,
    so the end of a long abstract or badge description counts too. The recipe is part of
    ``cache_model``, so changing it never mixes vectors.

    ``model_name`` is the model version (``backends.model_fingerprint``: name, weights digest,
    precision); ``cache_model`` (version + text recipe) is what every cached vector and index
    snapshot records.
    """

    def __init__(
        self,
        *,
        model: SentenceModel,
        model_name: str,
        batch_size: int = 32,
        cache_entries: int = 200_000,
        chunk_words: int | None = None,
    ) -> None:
        self._model = model
        self.model_name = model_name
        self.batch_size = batch_size
        self.chunk_words = chunk_words
        dimension = model.get_embedding_dimension()
        if dimension is None:
            raise ValueError("the model does not report its embedding dimension")
        self.dimension = dimension
        self.cache_model = cache_model_name(model_name, chunk_words=chunk_words)
        self._memory = _MemoryCache(cache_entries)
        # One model call at a time: torch already uses every thread it is given.
        self._limiter = anyio.CapacityLimiter(1)
        self.texts_encoded = 0
        self.model_calls = 0

    def forget(self, keys: Sequence[bytes]) -> None:
        """Drops these text keys' vectors from the memory cache (erasure)."""
        self._memory.discard(keys)

    @property
    def memory_entries(self) -> int:
        return len(self._memory)

    @property
    def queue_length(self) -> int:
        """Embedding calls holding or waiting for the model (the /metrics queue length)."""
        statistics = self._limiter.statistics()
        return statistics.borrowed_tokens + statistics.tasks_waiting

    # -- blocking part, run in the worker ----------------------------------------------
    def _encode_raw(self, texts: list[str]) -> Vectors:
        self.model_calls += 1
        self.texts_encoded += len(texts)
        # Sorting by length keeps padding (and time) down inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        encoded = self._model.encode(
            [texts[i] for i in order],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        out[order] = np.asarray(encoded, dtype=np.float32)
        return out

    def encode_normalised(self, texts: list[str]) -> Vectors:
        """Vectors for already-normalised texts, bypassing the caches. Blocking."""
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        if not self.chunk_words:
            return self._encode_raw(texts)
        pieces: list[str] = []
        spans: list[tuple[int, int]] = []
        for text in texts:
            start = len(pieces)
            pieces.append(text)
            if len(text.split()) > self.chunk_words:
                chunks = chunk_text(text, max_words=self.chunk_words)
                if len(chunks) > 1:
                    pieces.extend(chunks)
            spans.append((start, len(pieces)))
        raw = self._encode_raw(pieces)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for row, (start, end) in enumerate(spans):
            mean = raw[start:end].mean(axis=0)
            out[row] = mean / max(float(np.linalg.norm(mean)), 1e-12)
        return out

    # -- async API ---------------------------------------------------------------------
    async def embed(
        self,
        texts: Sequence[str],
        *,
        pool: asyncpg.Pool[Any] | None = None,
        persist: bool = True,
    ) -> Vectors:
        """Unit vectors for ``texts`` (same order); only cache misses reach the model."""
        normalised = [normalise_text(text) for text in texts]
        keys = [text_key(text) for text in normalised]
        found: dict[bytes, Vectors] = {}
        missing: dict[bytes, str] = {}
        for key, text in zip(keys, normalised, strict=True):
            if key in found or key in missing:
                continue
            vector = self._memory.get(key)
            if vector is not None:
                found[key] = vector
            else:
                missing[key] = text
        if missing and pool is not None:
            async with pool.acquire() as connection:
                stored = await repository.fetch_vectors(
                    connection, model=self.cache_model, keys=list(missing)
                )
            for key, raw in stored.items():
                vector = np.frombuffer(raw, dtype=np.float32)
                if vector.shape[0] != self.dimension:
                    continue  # a vector of another shape is a miss, never a mixed result
                self._memory.put(key, vector)
                found[key] = vector
                del missing[key]
        if missing:
            miss_keys = list(missing)
            metrics = current_metrics()

            def encode_timed(batch: list[str]) -> Vectors:
                started = time.perf_counter()
                vectors = self.encode_normalised(batch)
                metrics.observe_embedding_batch(
                    seconds=time.perf_counter() - started, texts=len(batch)
                )
                return vectors

            encoded = await anyio.to_thread.run_sync(
                encode_timed, [missing[key] for key in miss_keys], limiter=self._limiter
            )
            new_rows: list[tuple[bytes, bytes]] = []
            for key, vector in zip(miss_keys, encoded, strict=True):
                vector = np.ascontiguousarray(vector)
                self._memory.put(key, vector)
                found[key] = vector
                new_rows.append((key, vector.tobytes()))
            if persist and pool is not None:
                async with pool.acquire() as connection:
                    await repository.insert_vectors(
                        connection,
                        model=self.cache_model,
                        dimension=self.dimension,
                        vectors=new_rows,
                    )
            logger.debug("embedded", extra={"texts": len(miss_keys)})
        if not keys:
            return np.empty((0, self.dimension), dtype=np.float32)
        return np.stack([found[key] for key in keys]).astype(np.float32, copy=False)
