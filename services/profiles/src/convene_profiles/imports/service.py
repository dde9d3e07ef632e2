"""Import rules: accept a file as a job; report it; claim unclaimed rows when their address is
verified; let the citizen confirm (evidence, on the change feed) or decline; purge rows
nobody claimed within the retention period."""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
from cryptography.exceptions import InvalidTag

from convene_common.db import Connection, Pool
from convene_profiles.config import ProfilesSettings
from convene_profiles.errors import CitizenNotFoundError, NotFoundError, ProfilesError
from convene_profiles.imports import repository
from convene_profiles.imports.jobs import ImportRunner, estimate_rows, progress_percent
from convene_profiles.imports.rows import (
    FileFormatError,
    ImportFormat,
    check_file_head,
    normalise_email,
)
from convene_profiles.imports.schemas import (
    CitizenImports,
    DecisionResult,
    ImportAccepted,
    ImportRead,
    PastResponseRead,
    RejectedRow,
    SourceSummary,
)
from convene_profiles.imports.sealing import Sealer
from convene_profiles.unit_of_work import citizen_change, lock_citizen

logger = logging.getLogger("convene.profiles.imports")


class ImportTooLargeError(ProfilesError):
    status = 413
    slug = "import-too-large"


class ImportUnreadableError(ProfilesError):
    status = 422
    slug = "import-unreadable"


def _not_found() -> NotFoundError:
    return NotFoundError("No import with that id.", slug="import-not-found")


def job_read(row: asyncpg.Record) -> ImportRead:
    return ImportRead(
        id=row["id"],
        status=row["status"],
        progress_percent=progress_percent(
            status=row["status"],
            processed=row["processed"],
            estimate=row["estimated_rows"],
        ),
        format=row["format"],
        source_body_id=row["source_body_id"],
        rows=row["rows"],
        imported=row["imported"],
        pending_confirmation=row["pending_confirmation"],
        unclaimed=row["unclaimed"],
        duplicates=row["duplicates"],
        rejected_count=row["rejected_count"],
        rejected=[RejectedRow.model_validate(r) for r in row["rejected"]],
        error=row["error"],
        file_bytes=row["file_bytes"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
    )


async def submit(
    pool: Pool,
    *,
    runner: ImportRunner,
    settings: ProfilesSettings,
    content: bytes,
    file_format: ImportFormat,
    source_body_id: UUID | None,
    requested_by: str,
) -> ImportAccepted:
    limit = settings.imports_max_file_bytes
    if len(content) > limit:
        raise ImportTooLargeError(f"An import file may be at most {limit} bytes.")
    if not content.strip():
        raise ProfilesError("The file is empty.", slug="import-empty")
    try:
        check_file_head(content, file_format=file_format)
    except FileFormatError as exc:
        raise ImportUnreadableError(f"The file cannot be read: {exc}.") from exc
    job_id = uuid.uuid4()
    async with pool.acquire() as connection:
        row = await repository.insert_job(
            connection,
            job_id=job_id,
            file_format=file_format,
            source_body_id=source_body_id,
            requested_by=requested_by,
            content=content,
            estimated_rows=estimate_rows(content, file_format=file_format),
        )
    runner.start(job_id)
    logger.info("import queued", extra={"import_id": str(job_id), "bytes": len(content)})
    return ImportAccepted(id=job_id, status=row["status"], progress_percent=0)


async def get_job(pool: Pool, *, job_id: UUID, source_body_id: UUID | None) -> ImportRead:
    """``source_body_id``: only that organisation's jobs are visible (a manager); None: all
    (an admin)."""
    async with pool.acquire() as connection:
        row = await repository.get_job(connection, job_id=job_id)
    if row is None or (source_body_id is not None and row["source_body_id"] != source_body_id):
        raise _not_found()
    return job_read(row)


# -- a citizen's side ----------------------------------------------------------------------
async def claim_for_address(
    connection: Connection, *, citizen_id: UUID, email: str, sealer: Sealer
) -> int:
    """In the caller's transaction, once ``email`` is verified for ``citizen_id``: unclaimed
    rows for that address become pending for them. Returns how many."""
    address = normalise_email(email)
    rows = await repository.unclaimed_for_hash(connection, email_hash=sealer.email_hash(address))
    claimed: list[tuple[UUID, str, str]] = []
    for row in rows:
        try:
            question, text = sealer.open_sealed(
                address, source=row["source"], external_id=row["external_id"], sealed=row["sealed"]
            )
        except InvalidTag:
            # Sealed under another secret (rotated): it cannot serve anyone; leave it to purge.
            continue
        claimed.append((row["id"], question, text))
    if claimed:
        await repository.claim(connection, citizen_id=citizen_id, claimed=claimed)
        logger.info("imported responses claimed", extra={"count": len(claimed)})
    return len(claimed)


def past_response_read(row: asyncpg.Record) -> PastResponseRead:
    return PastResponseRead(
        id=row["id"],
        source=row["source"],
        status=row["status"],
        responded_at=row["responded_at"],
        question=row["question"],
        response_text=row["response_text"],
        rating=row["rating"],
        imported_at=row["imported_at"],
        decided_at=row["decided_at"],
    )


async def citizen_imports(pool: Pool, *, citizen_id: UUID) -> CitizenImports:
    async with pool.acquire() as connection:
        await _require_citizen(connection, citizen_id=citizen_id)
        rows = await repository.responses_for_citizen(connection, citizen_id=citizen_id)
    items = [past_response_read(row) for row in rows]
    pending = Counter(item.source for item in items if item.status == "pending")
    return CitizenImports(
        pending_count=sum(pending.values()),
        pending_by_source=[
            SourceSummary(source=source, count=count)
            for source, count in sorted(pending.items(), key=lambda pair: (-pair[1], pair[0]))
        ],
        items=items,
    )


async def _require_citizen(connection: Connection, *, citizen_id: UUID) -> None:
    found = await connection.fetchval("SELECT 1 FROM citizen WHERE id = $1", citizen_id)
    if found is None:
        raise CitizenNotFoundError(f"No citizen with id {citizen_id}.")


async def decide(
    pool: Pool,
    *,
    citizen_id: UUID,
    confirm: bool,
    sources: list[str] | None,
    settings: ProfilesSettings,
) -> DecisionResult:
    """Confirmed rows become evidence: the change is on the feed in the same transaction."""
    if confirm:
        async with citizen_change(pool, citizen_id=citizen_id, settings=settings) as connection:
            changed = await repository.decide(
                connection, citizen_id=citizen_id, confirm=True, sources=sources
            )
    else:
        async with pool.acquire() as connection, connection.transaction():
            await lock_citizen(connection, citizen_id=citizen_id)
            changed = await repository.decide(
                connection, citizen_id=citizen_id, confirm=False, sources=sources
            )
    return DecisionResult(changed=changed)


async def purge_unclaimed(
    pool: Pool, *, settings: ProfilesSettings, now: datetime | None = None
) -> int:
    """Deletes unclaimed rows imported longer ago than the retention period."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=settings.imports_unclaimed_retention_days)
    async with pool.acquire() as connection:
        purged = await repository.purge_unclaimed(connection, imported_before=cutoff)
    if purged:
        logger.info("unclaimed imported responses purged", extra={"count": purged})
    return purged
