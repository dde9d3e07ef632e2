"""Every SQL statement about audit entries: INSERT and SELECT, nothing else (the table
refuses the rest, migrations/0011_audit.sql)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from convene_gateway.dependencies import Connection

_COLUMNS = """id, occurred_at, actor_kind, actor_id, organisation_id, action, object_type,
    object_id, request_id, detail"""


@dataclass(frozen=True)
class AuditRow:
    id: int
    occurred_at: datetime
    actor_kind: str
    actor_id: uuid.UUID | None
    organisation_id: uuid.UUID | None
    action: str
    object_type: str
    object_id: str | None
    request_id: str | None
    detail: dict[str, Any]


async def insert(
    connection: Connection,
    *,
    actor_kind: str,
    actor_id: uuid.UUID | None,
    organisation_id: uuid.UUID | None,
    action: str,
    object_type: str,
    object_id: str | None,
    request_id: str | None,
    detail: dict[str, Any],
) -> None:
    await connection.execute(
        """INSERT INTO audit_entry (actor_kind, actor_id, organisation_id, action, object_type,
               object_id, request_id, detail)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)""",
        actor_kind,
        actor_id,
        organisation_id,
        action,
        object_type,
        object_id,
        request_id,
        json.dumps(detail),
    )


async def list_entries(
    connection: Connection,
    *,
    organisation_id: uuid.UUID | None,
    action: str | None,
    actor_id: uuid.UUID | None,
    object_id: str | None,
    before_id: int | None,
    limit: int,
) -> list[AuditRow]:
    """Newest first; keyset on id. None filters match everything."""
    records = await connection.fetch(
        f"""SELECT {_COLUMNS} FROM audit_entry
            WHERE ($1::uuid IS NULL OR organisation_id = $1)
              AND ($2::text IS NULL OR action = $2)
              AND ($3::uuid IS NULL OR actor_id = $3)
              AND ($4::text IS NULL OR object_id = $4)
              AND ($5::bigint IS NULL OR id < $5)
            ORDER BY id DESC
            LIMIT $6""",
        organisation_id,
        action,
        actor_id,
        object_id,
        before_id,
        limit,
    )
    rows = []
    for record in records:
        values = dict(record)
        detail = values.pop("detail")
        rows.append(
            AuditRow(**values, detail=json.loads(detail) if isinstance(detail, str) else detail)
        )
    return rows
