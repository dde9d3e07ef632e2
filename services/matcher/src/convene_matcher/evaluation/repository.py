"""Every SQL statement of evaluation: jobs, labelled outcomes, prior exposure."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from convene_common.db import Connection

_JOB_COLUMNS = (
    "id, config_id, kind, compare_with_active, params, status, progress_percent, result, "
    "error, created_by, created_at, started_at, finished_at"
)


async def insert_job(
    connection: Connection,
    *,
    job_id: uuid.UUID,
    config_id: int,
    kind: str,
    compare_with_active: bool,
    params: dict[str, Any],
    created_by: str,
) -> asyncpg.Record:
    row: asyncpg.Record | None = await connection.fetchrow(
        f"""INSERT INTO evaluation_job (id, config_id, kind, compare_with_active, params,
                                        created_by)
            VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_JOB_COLUMNS}""",
        job_id,
        config_id,
        kind,
        compare_with_active,
        params,
        created_by,
    )
    assert row is not None
    return row


async def get_job(connection: Connection, *, job_id: uuid.UUID) -> asyncpg.Record | None:
    return await connection.fetchrow(
        f"SELECT {_JOB_COLUMNS} FROM evaluation_job WHERE id = $1", job_id
    )


async def mark_running(connection: Connection, *, job_id: uuid.UUID) -> bool:
    status = await connection.fetchval(
        """UPDATE evaluation_job SET status = 'running', started_at = clock_timestamp()
           WHERE id = $1 AND status = 'queued' RETURNING status""",
        job_id,
    )
    return status is not None


async def set_progress(connection: Connection, *, job_id: uuid.UUID, percent: float) -> bool:
    """False when the job is no longer running (cancelled through any replica)."""
    status = await connection.fetchval(
        """UPDATE evaluation_job SET progress_percent = $2
           WHERE id = $1 AND status = 'running' RETURNING status""",
        job_id,
        percent,
    )
    return status is not None


async def finish(
    connection: Connection,
    *,
    job_id: uuid.UUID,
    status: str,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    """Ends a job that is still queued or running (a cancelled job stays cancelled)."""
    await connection.execute(
        """UPDATE evaluation_job
           SET status = $2, result = $3, error = $4, finished_at = clock_timestamp(),
               progress_percent = CASE WHEN $2 = 'succeeded' THEN 100 ELSE progress_percent END
           WHERE id = $1 AND status IN ('queued', 'running')""",
        job_id,
        status,
        result,
        error,
    )


async def cancel(connection: Connection, *, job_id: uuid.UUID) -> bool:
    status = await connection.fetchval(
        """UPDATE evaluation_job SET status = 'cancelled', finished_at = clock_timestamp()
           WHERE id = $1 AND status IN ('queued', 'running') RETURNING status""",
        job_id,
    )
    return status is not None


async def fail_interrupted(connection: Connection) -> int:
    """Jobs a stopped process left unfinished (jobs run in the process that accepted them)."""
    result = await connection.execute(
        """UPDATE evaluation_job SET status = 'failed', finished_at = clock_timestamp(),
               error = 'interrupted: the matcher restarted while the job ran; start it again'
           WHERE status IN ('queued', 'running')"""
    )
    return int(result.split()[-1])


async def labelled_outcomes(connection: Connection, *, limit: int | None) -> list[asyncpg.Record]:
    """(call_id, public_body_id, created_at, citizen_id, answer, decline_reason, rating) of the
    earliest ``limit`` calls holding at least one outcome: the generator's ``outcome_label``
    rows and, when the invitations tables exist, real answers with their best rating."""
    has_invitations = await connection.fetchval(
        "SELECT to_regclass('invitation') IS NOT NULL AND "
        "to_regclass('contribution_rating') IS NOT NULL"
    )
    invitations = ""
    if has_invitations:
        invitations = """
            UNION ALL
            SELECT i.call_id, i.citizen_id,
                   CASE i.status WHEN 'accepted' THEN 'accepted'
                                 WHEN 'declined' THEN 'declined' ELSE 'no_answer' END,
                   i.decline_reason,
                   (SELECT max(r.rating) FROM contribution_rating r
                    WHERE r.invitation_id = i.id)::smallint
            FROM invitation i
            WHERE i.status <> 'withdrawn' AND NOT EXISTS (
                SELECT 1 FROM outcome_label o
                WHERE o.call_id = i.call_id AND o.citizen_id = i.citizen_id)"""
    return list(
        await connection.fetch(
            f"""
            WITH outcome (call_id, citizen_id, answer, decline_reason, rating) AS (
                SELECT call_id, citizen_id, answer, decline_reason, rating FROM outcome_label
                {invitations}
            ),
            chosen AS (
                SELECT c.id, c.public_body_id, c.created_at FROM call c
                WHERE EXISTS (SELECT 1 FROM outcome o WHERE o.call_id = c.id)
                ORDER BY c.created_at, c.id
                LIMIT $1
            )
            SELECT ch.id AS call_id, ch.public_body_id, ch.created_at,
                   o.citizen_id::text AS citizen_id, o.answer, o.decline_reason, o.rating
            FROM chosen ch JOIN outcome o ON o.call_id = ch.id
            ORDER BY ch.created_at, ch.id
            """,
            limit,
        )
    )


async def invited_before(
    connection: Connection, *, citizen_ids: list[str], before: datetime
) -> set[str]:
    """Citizens with an invitation in the exposure ledger before ``before`` (not new voices)."""
    if not citizen_ids:
        return set()
    rows = await connection.fetch(
        """SELECT DISTINCT citizen_id::text AS citizen_id FROM exposure
           WHERE citizen_id = ANY($1::uuid[]) AND invited_at < $2""",
        citizen_ids,
        before,
    )
    return {row["citizen_id"] for row in rows}


async def insert_outcomes(connection: Connection, *, rows: list[tuple[Any, ...]]) -> None:
    """rows: (call_id, citizen_id, answer, decline_reason, rating, source)."""
    await connection.executemany(
        """INSERT INTO outcome_label (call_id, citizen_id, answer, decline_reason, rating, source)
           VALUES ($1, $2::uuid, $3, $4, $5, $6)
           ON CONFLICT ON CONSTRAINT outcome_label_pkey DO NOTHING""",
        rows,
    )


async def count_outcomes(connection: Connection, *, source: str) -> int:
    value = await connection.fetchval(
        "SELECT count(*) FROM outcome_label WHERE source = $1", source
    )
    return int(value)
