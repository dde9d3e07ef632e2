"""Every SQL statement about import jobs and past responses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from convene_common.db import Connection

_JOB_COLUMNS = (
    "id, status, format, source_body_id, requested_by, file_bytes, estimated_rows, rows, "
    "processed, imported, "
    "pending_confirmation, unclaimed, duplicates, rejected_count, rejected, error, created_at, "
    "started_at, finished_at"
)
_RESPONSE_COLUMNS = (
    "id, source, status, responded_at, question, response_text, rating, imported_at, decided_at"
)

# The staging shape rows are COPYed in as (then inserted with ON CONFLICT DO NOTHING).
STAGE_COLUMNS = (
    "id", "source", "external_id", "email_hash", "citizen_id", "status", "responded_at",
    "question", "response_text", "sealed", "rating",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class JobCounts:
    rows: int
    processed: int
    imported: int
    pending_confirmation: int
    unclaimed: int
    duplicates: int
    rejected_count: int


async def insert_job(
    connection: Connection,
    *,
    job_id: UUID,
    file_format: str,
    source_body_id: UUID | None,
    requested_by: str,
    content: bytes,
    estimated_rows: int,
) -> asyncpg.Record:
    row = await connection.fetchrow(
        f"""INSERT INTO import_job (id, format, source_body_id, requested_by, file_content,
                                    file_bytes, estimated_rows)
            VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_JOB_COLUMNS}""",
        job_id,
        file_format,
        source_body_id,
        requested_by,
        content,
        len(content),
        estimated_rows,
    )
    assert row is not None
    return row


async def get_job(connection: Connection, *, job_id: UUID) -> asyncpg.Record | None:
    return await connection.fetchrow(f"SELECT {_JOB_COLUMNS} FROM import_job WHERE id = $1", job_id)


async def unfinished_job_ids(connection: Connection) -> list[UUID]:
    rows = await connection.fetch(
        "SELECT id FROM import_job WHERE status IN ('queued', 'running') ORDER BY created_at"
    )
    return [row["id"] for row in rows]


async def try_lock_job(connection: Connection, *, job_id: UUID) -> bool:
    """A session advisory lock: one process runs a job, even with several replicas."""
    locked: bool = await connection.fetchval(
        "SELECT pg_try_advisory_lock(hashtextextended($1::uuid::text, 75))", job_id
    )
    return locked


async def unlock_job(connection: Connection, *, job_id: UUID) -> None:
    await connection.execute(
        "SELECT pg_advisory_unlock(hashtextextended($1::uuid::text, 75))", job_id
    )


async def start_job(
    connection: Connection, *, job_id: UUID
) -> tuple[str, bytes, UUID | None] | None:
    """Marks the job running (from the start again: rows are idempotent) and returns its
    (format, content, source body); None when it has finished meanwhile."""
    row = await connection.fetchrow(
        """UPDATE import_job SET status = 'running', started_at = now(), rows = 0,
                   processed = 0, imported = 0, pending_confirmation = 0, unclaimed = 0,
                   duplicates = 0, rejected_count = 0, rejected = '[]', error = NULL
           WHERE id = $1 AND status IN ('queued', 'running') AND file_content IS NOT NULL
           RETURNING format, file_content, source_body_id""",
        job_id,
    )
    if row is None:
        return None
    return row["format"], bytes(row["file_content"]), row["source_body_id"]


async def record_progress(
    connection: Connection,
    *,
    job_id: UUID,
    counts: JobCounts,
    new_rejections: Sequence[dict[str, Any]],
    rejected_kept: int,
) -> None:
    await connection.execute(
        """UPDATE import_job SET rows = $2, processed = $3, imported = $4,
                   pending_confirmation = $5, unclaimed = $6, duplicates = $7,
                   rejected_count = $8,
                   rejected = CASE WHEN jsonb_array_length(rejected) >= $10 THEN rejected
                                   ELSE rejected || $9::jsonb END
           WHERE id = $1""",
        job_id,
        counts.rows,
        counts.processed,
        counts.imported,
        counts.pending_confirmation,
        counts.unclaimed,
        counts.duplicates,
        counts.rejected_count,
        list(new_rejections),
        rejected_kept,
    )


async def finish_job(
    connection: Connection, *, job_id: UUID, status: str, error: str | None = None
) -> None:
    """Ends the job and drops its file (it is no longer needed to resume)."""
    await connection.execute(
        """UPDATE import_job SET status = $2, error = $3, finished_at = now(),
                   file_content = NULL
           WHERE id = $1""",
        job_id,
        status,
        error,
    )


async def verified_citizens_by_email(
    connection: Connection, *, emails: list[str]
) -> dict[str, UUID]:
    """Normalised address -> id of the verified citizen holding it."""
    rows = await connection.fetch(
        """SELECT lower(email) AS email, id FROM citizen
           WHERE lower(email) = ANY($1::text[]) AND email_verified""",
        emails,
    )
    return {row["email"]: row["id"] for row in rows}


async def store_batch(
    connection: Connection,
    *,
    records: list[tuple[Any, ...]],
    source_body_id: UUID | None,
    job_id: UUID,
) -> list[str]:
    """COPYs the rows into a staging table and inserts those whose (source, external_id) is
    new; returns the statuses of the rows inserted."""
    await connection.execute(
        """CREATE TEMP TABLE IF NOT EXISTS past_response_stage (
               id uuid, source text, external_id text, email_hash text, citizen_id uuid,
               status text, responded_at timestamptz, question text, response_text text,
               sealed bytea, rating smallint
           ) ON COMMIT DELETE ROWS"""
    )
    await connection.copy_records_to_table(
        "past_response_stage", records=records, columns=list(STAGE_COLUMNS)
    )
    rows = await connection.fetch(
        """INSERT INTO past_response (id, source, external_id, source_body_id, import_job_id,
                                      email_hash, citizen_id, status, responded_at, question,
                                      response_text, sealed, rating)
           SELECT id, source, external_id, $1, $2, email_hash, citizen_id, status,
                  responded_at, question, response_text, sealed, rating
           FROM past_response_stage
           ON CONFLICT ON CONSTRAINT past_response_source_external_key DO NOTHING
           RETURNING status""",
        source_body_id,
        job_id,
    )
    return [row["status"] for row in rows]


# -- a citizen's rows ---------------------------------------------------------------------
async def unclaimed_for_hash(connection: Connection, *, email_hash: str) -> list[asyncpg.Record]:
    return await connection.fetch(
        """SELECT id, source, external_id, sealed FROM past_response
           WHERE email_hash = $1 AND status = 'unclaimed' FOR UPDATE""",
        email_hash,
    )


async def claim(
    connection: Connection, *, citizen_id: UUID, claimed: list[tuple[UUID, str, str]]
) -> None:
    """Rows (id, question, text) become pending for the citizen: no longer sealed."""
    await connection.executemany(
        """UPDATE past_response SET status = 'pending', citizen_id = $2, question = $3,
                   response_text = $4, sealed = NULL
           WHERE id = $1 AND status = 'unclaimed'""",
        [(row_id, citizen_id, question, text) for row_id, question, text in claimed],
    )


async def responses_for_citizen(
    connection: Connection, *, citizen_id: UUID
) -> list[asyncpg.Record]:
    return await connection.fetch(
        f"""SELECT {_RESPONSE_COLUMNS} FROM past_response WHERE citizen_id = $1
            ORDER BY responded_at DESC, id""",
        citizen_id,
    )


async def confirmed_for_citizens(
    connection: Connection, *, citizen_ids: list[UUID]
) -> list[asyncpg.Record]:
    return await connection.fetch(
        """SELECT id, citizen_id, source, question, response_text, rating, responded_at
           FROM past_response WHERE citizen_id = ANY($1::uuid[]) AND status = 'confirmed'
           ORDER BY citizen_id, responded_at, id""",
        citizen_ids,
    )


async def decide(
    connection: Connection, *, citizen_id: UUID, confirm: bool, sources: list[str] | None
) -> int:
    """Pending rows (of the given sources, or all) become confirmed, or declined (their texts
    dropped: only the key stays, so a re-import does not ask again)."""
    if confirm:
        sql = """UPDATE past_response SET status = 'confirmed', decided_at = now()
                 WHERE citizen_id = $1 AND status = 'pending'
                   AND ($2::text[] IS NULL OR source = ANY($2::text[]))"""
    else:
        sql = """UPDATE past_response SET status = 'declined', decided_at = now(),
                        question = NULL, response_text = NULL
                 WHERE citizen_id = $1 AND status = 'pending'
                   AND ($2::text[] IS NULL OR source = ANY($2::text[]))"""
    result = await connection.execute(sql, citizen_id, sources)
    return int(result.split()[-1])


async def purge_unclaimed(connection: Connection, *, imported_before: datetime) -> int:
    result = await connection.execute(
        "DELETE FROM past_response WHERE status = 'unclaimed' AND imported_at < $1",
        imported_before,
    )
    return int(result.split()[-1])
