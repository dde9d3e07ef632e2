"""Re-embedding jobs: blue/green, one at a time, run as a background task of the matcher
that accepted them (202 at once; GET the job to follow it).

1. Reads the citizen store's distinct texts (text id -> normalised text) at one moment.
2. Vectors the target model version already has in embedding_cache are reused (a failed or
   interrupted job resumes where it stopped); the others are embedded on Ray Data
   (``ray_embed.embed_on_ray``) and written to embedding_cache under the target version as
   batches arrive, beside the serving model's rows.
3. Loads the target model in this process (it will embed calls) and builds a new
   EvidenceIndex of the target version aside; the serving index is untouched.
4. ``EvidenceService.switch_model`` catches the new index up with the feed and swaps the
   embedder and the index in one step; a snapshot of the new version is written and the
   target recorded as the active model (start-up loads it from then on).

Routing never mixes vectors: it reads embedder and index as one pair, and the index
refuses vectors and query vectors of another version (``EvidenceIndex.require_model``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import asyncpg
import numpy as np
import numpy.typing as npt

from convene_matcher.citizens.store import normalised_texts
from convene_matcher.config import MatcherSettings
from convene_matcher.embedding import repository as embedding_repository
from convene_matcher.embedding.backends import EmbeddingSpec
from convene_matcher.embedding.embedder import Embedder, cache_model_name
from convene_matcher.embedding.text import text_key
from convene_matcher.errors import ConflictError, MatcherError, NotFoundError
from convene_matcher.index.evidence_index import EvidenceIndex
from convene_matcher.index.service import EvidenceService
from convene_matcher.reembed import repository
from convene_matcher.reembed.ray_embed import RayOptions, embed_on_ray
from convene_matcher.reembed.schemas import ReembedCreate, ReembedRead

logger = logging.getLogger("convene.matcher.reembed")

# Keys looked up in embedding_cache per query, and rows written per insert.
CHUNK = 5_000


@dataclass
class ReembedRunner:
    """This process's running job (app state); shut down with the app."""

    tasks: dict[uuid.UUID, asyncio.Task[None]] = field(default_factory=dict)

    async def shutdown(self) -> None:
        for task in list(self.tasks.values()):
            task.cancel()
        for task in list(self.tasks.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _read(row: repository.JobRow) -> ReembedRead:
    return ReembedRead.model_validate(row, from_attributes=True)


def ray_options(settings: MatcherSettings) -> RayOptions:
    return RayOptions(
        address=settings.reembed_ray_address,
        num_cpus=settings.reembed_ray_cpus,
        concurrency=settings.reembed_concurrency,
        batch_size=settings.reembed_batch_size,
    )


def target_spec(current: EmbeddingSpec, body: ReembedCreate) -> EmbeddingSpec:
    path = Path(body.model_path) if body.model_path is not None else current.model_path
    if not path.is_dir():
        raise MatcherError("model_path is not a folder on the matcher's machine.", status=422)
    return replace(
        current,
        model_name=body.model_name,
        model_path=path,
        backend=body.backend or current.backend,
    )


async def start(
    *,
    pool: asyncpg.Pool[Any],
    evidence: EvidenceService,
    runner: ReembedRunner,
    current: EmbeddingSpec,
    options: RayOptions,
    body: ReembedCreate,
) -> ReembedRead:
    spec = target_spec(current, body)
    try:
        version = await anyio.to_thread.run_sync(lambda: spec.version)
    except FileNotFoundError as exc:
        raise MatcherError(str(exc), status=422) from exc
    target_model = cache_model_name(version, chunk_words=evidence.embedder.chunk_words)
    if target_model == evidence.embedder.cache_model:
        raise ConflictError(f"The matcher already runs {target_model}.")
    job_id = uuid.uuid4()
    async with pool.acquire() as connection:
        row = await repository.insert_job(
            connection,
            job_id=job_id,
            source_model=evidence.embedder.cache_model,
            target_model=target_model,
            target_spec={
                "model_name": spec.model_name,
                "model_path": str(spec.model_path),
                "backend": spec.backend,
            },
        )
    if row is None:
        raise ConflictError("A re-embedding job is already running.")
    task = asyncio.create_task(
        _run(pool=pool, evidence=evidence, spec=spec, options=options, job_id=job_id),
        name=f"reembed-{job_id}",
    )
    runner.tasks[job_id] = task
    task.add_done_callback(lambda _: runner.tasks.pop(job_id, None))
    logger.info("re-embedding queued", extra={"job_id": str(job_id), "target": target_model})
    return _read(row)


async def get(*, pool: asyncpg.Pool[Any], job_id: uuid.UUID) -> ReembedRead:
    async with pool.acquire() as connection:
        row = await repository.get_job(connection, job_id=job_id)
    if row is None:
        raise NotFoundError("No such re-embedding job.")
    return _read(row)


async def _update(pool: asyncpg.Pool[Any], job_id: uuid.UUID, **values: Any) -> None:
    async with pool.acquire() as connection:
        await repository.update_job(connection, job_id=job_id, **values)


async def _cached_vectors(
    pool: asyncpg.Pool[Any], *, model: str, keys: list[bytes], dimension: int
) -> dict[bytes, npt.NDArray[np.float32]]:
    found: dict[bytes, npt.NDArray[np.float32]] = {}
    for start in range(0, len(keys), CHUNK):
        async with pool.acquire() as connection:
            stored = await embedding_repository.fetch_vectors(
                connection, model=model, keys=keys[start : start + CHUNK]
            )
        for key, raw in stored.items():
            vector = np.frombuffer(raw, dtype=np.float32)
            if vector.shape[0] == dimension:
                found[key] = vector
    return found


async def _run(
    *,
    pool: asyncpg.Pool[Any],
    evidence: EvidenceService,
    spec: EmbeddingSpec,
    options: RayOptions,
    job_id: uuid.UUID,
) -> None:
    try:
        await _update(pool, job_id, status="embedding")
        model, _ = await anyio.to_thread.run_sync(spec.load)
        embedder = Embedder(
            model=model,
            model_name=await anyio.to_thread.run_sync(lambda: spec.version),
            batch_size=evidence.embedder.batch_size,
            chunk_words=evidence.embedder.chunk_words,
        )
        raw = evidence.store.raw_texts()  # one moment of the store: no await inside
        texts = await anyio.to_thread.run_sync(normalised_texts, raw)
        ids = list(texts)
        keys = [text_key(texts[text_id]) for text_id in ids]
        vectors = np.zeros((len(ids), embedder.dimension), dtype=np.float32)
        cached = await _cached_vectors(
            pool, model=embedder.cache_model, keys=keys, dimension=embedder.dimension
        )
        missing: list[int] = []
        for position, key in enumerate(keys):
            vector = cached.get(key)
            if vector is None:
                missing.append(position)
            else:
                vectors[position] = vector
        await _update(pool, job_id, texts_total=len(ids), texts_cached=len(ids) - len(missing))
        started = time.monotonic()
        embedded = 0

        async def write(rows: list[tuple[bytes, bytes]], done: int) -> None:
            async with pool.acquire() as connection:
                await embedding_repository.insert_vectors(
                    connection,
                    model=embedder.cache_model,
                    dimension=embedder.dimension,
                    vectors=rows,
                )
                await repository.update_job(connection, job_id=job_id, texts_embedded=done)

        def on_batch(positions: npt.NDArray[np.int64], batch: npt.NDArray[np.float32]) -> None:
            nonlocal embedded
            targets = [missing[int(p)] for p in positions]
            vectors[targets] = batch
            embedded += len(targets)
            rows = [(keys[t], np.ascontiguousarray(vectors[t]).tobytes()) for t in targets]
            anyio.from_thread.run(write, rows, embedded)

        miss_texts = [texts[ids[position]] for position in missing]
        await anyio.to_thread.run_sync(
            lambda: embed_on_ray(spec, miss_texts, options=options, on_batch=on_batch)
        )
        if embedded != len(missing):
            raise RuntimeError(f"Ray returned {embedded} of {len(missing)} vectors")
        await _update(pool, job_id, embed_seconds=round(time.monotonic() - started, 3))
        id_array = np.asarray(ids, dtype=np.int64)
        fresh = await anyio.to_thread.run_sync(
            lambda: EvidenceIndex.build(
                model_name=embedder.cache_model,
                dimension=embedder.dimension,
                ids=id_array,
                vectors=vectors,
                params=evidence.params,
            )
        )
        await _update(pool, job_id, status="switching")
        switched = await evidence.switch_model(embedder=embedder, index=fresh, texts=texts)
        await evidence.save_snapshot()
        async with pool.acquire() as connection, connection.transaction():
            await repository.set_active_model(
                connection,
                model_name=spec.model_name,
                model_path=str(spec.model_path),
                model_version=embedder.model_name,
                job_id=job_id,
            )
            await repository.update_job(
                connection,
                job_id=job_id,
                status="succeeded",
                texts_caught_up=switched.added + switched.dropped,
            )
        logger.info("re-embedding succeeded", extra={"job_id": str(job_id)})
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await _update(pool, job_id, status="failed", error="cancelled: the matcher stopped")
        raise
    except Exception as exc:
        logger.exception("re-embedding failed", extra={"job_id": str(job_id)})
        await _update(
            pool, job_id, status="failed", error=f"{type(exc).__name__}: {str(exc)[:500]}"
        )


async def recover(*, pool: asyncpg.Pool[Any]) -> None:
    async with pool.acquire() as connection:
        count = await repository.fail_interrupted(connection)
    if count:
        logger.warning("interrupted re-embedding jobs marked failed", extra={"count": count})


async def active_spec(*, pool: asyncpg.Pool[Any], configured: EmbeddingSpec) -> EmbeddingSpec:
    """The model a succeeded job switched to, else the configured one."""
    async with pool.acquire() as connection:
        row = await repository.active_model(connection)
    if row is None:
        return configured
    path = Path(row.model_path)
    if not path.is_dir():
        logger.error(
            "the active model's folder is missing: running the configured model",
            extra={"model_version": row.model_version},
        )
        return configured
    if row.model_name != configured.model_name or path != configured.model_path:
        logger.warning(
            "running the model a re-embedding job switched to, not the configured one",
            extra={"model_version": row.model_version, "job_id": str(row.job_id)},
        )
    return replace(configured, model_name=row.model_name, model_path=path)
