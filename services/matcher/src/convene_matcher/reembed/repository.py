"""Every SQL statement of reembed/: jobs, the active model, target vectors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from convene_common.db import Connection

_JOB_COLUMNS = (
    "id, status, source_model, target_model, target_spec, texts_total, texts_cached, "
    "texts_embedded, texts_caught_up, embed_seconds, error, created_at, started_at, "
    "switched_at, finished_at"
)
RUNNING = ("queued", "embedding", "switching")


@dataclass(frozen=True, slots=True)
class JobRow:
    id: uuid.UUID
    status: str
    source_model: str
    target_model: str
    target_spec: dict[str, Any]
    texts_total: int
    texts_cached: int
    texts_embedded: int
    texts_caught_up: int
    embed_seconds: float | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    switched_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class ActiveModelRow:
    model_name: str
    model_path: str
    model_version: str
    job_id: uuid.UUID
    activated_at: datetime


async def insert_job(
    connection: Connection,
    *,
    job_id: uuid.UUID,
    source_model: str,
    target_model: str,
    target_spec: dict[str, Any],
) -> JobRow | None:
    """The new job, or None when another job is running (one at a time)."""
    row = await connection.fetchrow(
        f"""INSERT INTO reembed_job (id, source_model, target_model, target_spec)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT ((true)) WHERE status IN ('queued', 'embedding', 'switching')
            DO NOTHING
            RETURNING {_JOB_COLUMNS}""",
        job_id,
        source_model,
        target_model,
        target_spec,
    )
    return JobRow(**dict(row)) if row is not None else None


async def get_job(connection: Connection, *, job_id: uuid.UUID) -> JobRow | None:
    row = await connection.fetchrow(f"SELECT {_JOB_COLUMNS} FROM reembed_job WHERE id = $1", job_id)
    return JobRow(**dict(row)) if row is not None else None


async def update_job(connection: Connection, *, job_id: uuid.UUID, **values: Any) -> None:
    """Sets the given columns (names from this module's callers only, never from input)."""
    allowed = {
        "status", "texts_total", "texts_cached", "texts_embedded", "texts_caught_up",
        "embed_seconds", "error",
    }  # fmt: skip
    names = list(values)
    if not names or not set(names) <= allowed:
        raise ValueError(f"cannot update {names}")
    assignments = ", ".join(f"{name} = ${n + 2}" for n, name in enumerate(names))
    stamps = {
        "embedding": ", started_at = clock_timestamp()",
        "switching": ", switched_at = clock_timestamp()",
        "succeeded": ", finished_at = clock_timestamp()",
        "failed": ", finished_at = clock_timestamp()",
    }
    stamp = stamps.get(values.get("status", ""), "")
    await connection.execute(
        f"UPDATE reembed_job SET {assignments}{stamp} WHERE id = $1",
        job_id,
        *values.values(),
    )


async def fail_interrupted(connection: Connection) -> int:
    """Jobs a stopped process left running are failed (start-up)."""
    result = await connection.execute(
        """UPDATE reembed_job SET status = 'failed', finished_at = clock_timestamp(),
                  error = 'interrupted: the matcher stopped while the job ran'
           WHERE status IN ('queued', 'embedding', 'switching')"""
    )
    return int(result.split()[-1])


async def active_model(connection: Connection) -> ActiveModelRow | None:
    row = await connection.fetchrow(
        """SELECT model_name, model_path, model_version, job_id, activated_at
           FROM embedding_model_active"""
    )
    return ActiveModelRow(**dict(row)) if row is not None else None


async def set_active_model(
    connection: Connection,
    *,
    model_name: str,
    model_path: str,
    model_version: str,
    job_id: uuid.UUID,
) -> None:
    await connection.execute(
        """INSERT INTO embedding_model_active (model_name, model_path, model_version, job_id)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (singleton) DO UPDATE SET model_name = excluded.model_name,
               model_path = excluded.model_path, model_version = excluded.model_version,
               job_id = excluded.job_id, activated_at = clock_timestamp()""",
        model_name,
        model_path,
        model_version,
        job_id,
    )
