"""Import jobs run off the request: at most ``imports_max_concurrent_jobs`` at once per process,
each in batches (read and check rows in a worker thread, look the addresses up, seal what
nobody holds, COPY, record progress), so progress is visible while it runs and a restart
resumes from the stored file (rows are idempotent by source and external id)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast
from uuid import UUID

from convene_common.db import Pool
from convene_profiles.config import ProfilesSettings
from convene_profiles.imports import repository
from convene_profiles.imports.repository import JobCounts
from convene_profiles.imports.rows import (
    FileFormatError,
    ImportFormat,
    Rejection,
    ResponseRow,
    read_rows,
)
from convene_profiles.imports.sealing import Sealer

logger = logging.getLogger("convene.profiles.imports")


def estimate_rows(content: bytes, *, file_format: str) -> int:
    """Lines (less the CSV header): the denominator of progress (a C-speed count; blank
    lines and multi-line CSV records make it an over-estimate, so progress is capped at 99
    until the job ends)."""
    lines = content.count(b"\n") + (0 if content.endswith(b"\n") else 1)
    return max(lines - (1 if file_format == "csv" else 0), 1)


def progress_percent(*, status: str, processed: int, estimate: int) -> int:
    if status in ("succeeded", "failed"):
        return 100
    return min(99, processed * 100 // max(estimate, 1))


@dataclass
class _Tally:
    processed: int = 0
    imported: int = 0
    pending: int = 0
    unclaimed: int = 0
    duplicates: int = 0
    rejected: int = 0
    kept: int = 0

    def counts(self) -> JobCounts:
        return JobCounts(
            rows=self.processed,
            processed=self.processed,
            imported=self.imported,
            pending_confirmation=self.pending,
            unclaimed=self.unclaimed,
            duplicates=self.duplicates,
            rejected_count=self.rejected,
        )


def build_records(
    rows: list[ResponseRow], *, holders: dict[str, UUID], sealer: Sealer
) -> list[tuple[Any, ...]]:
    """Staging records: plain texts for an address a verified citizen holds (pending their
    yes), sealed texts and no citizen otherwise (unclaimed)."""
    records: list[tuple[Any, ...]] = []
    for row in rows:
        citizen_id = holders.get(row.email)
        email_hash = sealer.email_hash(row.email)
        if citizen_id is not None:
            records.append(
                (
                    uuid.uuid4(), row.source, row.external_id, email_hash, citizen_id,
                    "pending", row.responded_at, row.question, row.response_text, None,
                    row.rating,
                )
            )  # fmt: skip
        else:
            sealed = sealer.seal(
                row.email,
                source=row.source,
                external_id=row.external_id,
                question=row.question,
                text=row.response_text,
            )
            records.append(
                (
                    uuid.uuid4(), row.source, row.external_id, email_hash, None, "unclaimed",
                    row.responded_at, None, None, sealed, row.rating,
                )
            )  # fmt: skip
    return records


async def run_job(pool: Pool, *, job_id: UUID, settings: ProfilesSettings, sealer: Sealer) -> None:
    """Runs one job to its end unless another process holds it (then returns at once)."""
    async with pool.acquire() as lock_connection:
        if not await repository.try_lock_job(lock_connection, job_id=job_id):
            return
        try:
            started = await repository.start_job(lock_connection, job_id=job_id)
            if started is None:
                return
            file_format, content, source_body_id = started
            try:
                await _process(
                    pool,
                    job_id=job_id,
                    file_format=cast(ImportFormat, file_format),
                    content=content,
                    source_body_id=source_body_id,
                    settings=settings,
                    sealer=sealer,
                )
            except FileFormatError as exc:
                await repository.finish_job(
                    lock_connection, job_id=job_id, status="failed", error=str(exc)
                )
                return
            await repository.finish_job(lock_connection, job_id=job_id, status="succeeded")
            logger.info("import finished", extra={"import_id": str(job_id)})
        finally:
            await repository.unlock_job(lock_connection, job_id=job_id)


async def _process(
    pool: Pool,
    *,
    job_id: UUID,
    file_format: ImportFormat,
    content: bytes,
    source_body_id: UUID | None,
    settings: ProfilesSettings,
    sealer: Sealer,
) -> None:
    batch_size = settings.imports_batch_rows
    rows: Iterator[ResponseRow | Rejection] = await asyncio.to_thread(
        lambda: iter(read_rows(content, file_format=file_format))
    )
    tally = _Tally()
    while True:
        # Reading and checking rows is CPU work: a worker thread, one batch at a time.
        batch = await asyncio.to_thread(lambda: list(itertools.islice(rows, batch_size)))
        if not batch:
            return
        good = [row for row in batch if isinstance(row, ResponseRow)]
        bad = [row for row in batch if isinstance(row, Rejection)]
        async with pool.acquire() as connection:
            holders = await repository.verified_citizens_by_email(
                connection, emails=sorted({row.email for row in good})
            )
        records = await asyncio.to_thread(build_records, good, holders=holders, sealer=sealer)
        keep = max(settings.imports_rejected_kept - tally.kept, 0)
        shown = [{"line": r.line, "reason": r.reason} for r in bad[:keep]]
        async with pool.acquire() as connection, connection.transaction():
            statuses = await repository.store_batch(
                connection,
                records=records,
                source_body_id=source_body_id,
                job_id=job_id,
            )
            tally.processed += len(batch)
            tally.imported += len(statuses)
            tally.pending += statuses.count("pending")
            tally.unclaimed += statuses.count("unclaimed")
            tally.duplicates += len(records) - len(statuses)
            tally.rejected += len(bad)
            tally.kept += len(shown)
            await repository.record_progress(
                connection,
                job_id=job_id,
                counts=tally.counts(),
                new_rejections=shown,
                rejected_kept=settings.imports_rejected_kept,
            )


@dataclass
class ImportRunner:
    """The process's running jobs, bounded by a semaphore; cancelled at shutdown (a job left
    'running' is resumed at the next start-up)."""

    pool: Pool
    settings: ProfilesSettings
    sealer: Sealer
    _slots: asyncio.Semaphore = field(init=False)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(self.settings.imports_max_concurrent_jobs)

    def start(self, job_id: UUID) -> None:
        task = asyncio.create_task(self._run(job_id), name=f"import-{job_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, job_id: UUID) -> None:
        async with self._slots:
            try:
                await run_job(self.pool, job_id=job_id, settings=self.settings, sealer=self.sealer)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("import failed", extra={"import_id": str(job_id)})
                async with self.pool.acquire() as connection:
                    await repository.finish_job(
                        connection, job_id=job_id, status="failed", error="internal error"
                    )

    async def resume(self) -> int:
        async with self.pool.acquire() as connection:
            job_ids = await repository.unfinished_job_ids(connection)
        for job_id in job_ids:
            self.start(job_id)
        return len(job_ids)

    async def wait_idle(self) -> None:
        """Waits for every job started so far (tests and the benchmark)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
