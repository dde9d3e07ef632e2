"""Every SQL statement on ``contribution``; functions receive a connection."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from convene_common.db import Connection


def _answers(value: Any) -> list[dict[str, str]]:
    loaded = json.loads(value) if isinstance(value, str) else value
    return list(loaded or [])


@dataclass(frozen=True, slots=True)
class ContributionRow:
    invitation_id: uuid.UUID
    answers: list[dict[str, str]]
    comment: str | None
    submitted_at: datetime
    updated_at: datetime | None

    @classmethod
    def from_record(cls, row: asyncpg.Record) -> ContributionRow:
        return cls(
            invitation_id=row["invitation_id"],
            answers=_answers(row["answers"]),
            comment=row["comment"],
            submitted_at=row["submitted_at"],
            updated_at=row["updated_at"],
        )


@dataclass(frozen=True, slots=True)
class CallContributionRow:
    """A contribution of a call with its invitation's ref, citizen and the body's rating."""

    contribution: ContributionRow
    ref: str
    citizen_id: uuid.UUID
    rating: int | None


_COLUMNS = "invitation_id, answers, comment, submitted_at, updated_at"


async def get(connection: Connection, *, invitation_id: uuid.UUID) -> ContributionRow | None:
    row = await connection.fetchrow(
        f"SELECT {_COLUMNS} FROM contribution WHERE invitation_id = $1", invitation_id
    )
    return ContributionRow.from_record(row) if row is not None else None


async def upsert(
    connection: Connection,
    *,
    invitation_id: uuid.UUID,
    answers: list[dict[str, str]],
    comment: str | None,
) -> ContributionRow:
    """Creates, or replaces the answers and comment (``updated_at`` set on a replace)."""
    row = await connection.fetchrow(
        f"""INSERT INTO contribution (invitation_id, answers, comment)
            VALUES ($1, $2::jsonb, $3)
            ON CONFLICT ON CONSTRAINT contribution_pkey DO UPDATE
                SET answers = EXCLUDED.answers, comment = EXCLUDED.comment,
                    updated_at = clock_timestamp()
            RETURNING {_COLUMNS}""",
        invitation_id,
        answers,
        comment,
    )
    assert row is not None
    return ContributionRow.from_record(row)


async def delete(connection: Connection, *, invitation_id: uuid.UUID) -> bool:
    result = await connection.execute(
        "DELETE FROM contribution WHERE invitation_id = $1", invitation_id
    )
    return bool(result.endswith(" 1"))


async def list_for_call(connection: Connection, *, call_id: uuid.UUID) -> list[CallContributionRow]:
    """Contributions of accepted invitations of the call, first submitted first."""
    rows = await connection.fetch(
        """SELECT k.invitation_id, k.answers, k.comment, k.submitted_at, k.updated_at,
                  i.ref, i.citizen_id, r.rating
           FROM contribution k
           JOIN invitation i ON i.id = k.invitation_id
           LEFT JOIN contribution_rating r ON r.invitation_id = i.id
           WHERE i.call_id = $1 AND i.status = 'accepted'
           ORDER BY k.submitted_at, i.ref""",
        call_id,
    )
    return [
        CallContributionRow(
            contribution=ContributionRow.from_record(row),
            ref=row["ref"],
            citizen_id=row["citizen_id"],
            rating=row["rating"],
        )
        for row in rows
    ]


async def for_call_ref(
    connection: Connection, *, call_id: uuid.UUID, ref: str
) -> ContributionRow | None:
    row = await connection.fetchrow(
        """SELECT k.invitation_id, k.answers, k.comment, k.submitted_at, k.updated_at
           FROM contribution k JOIN invitation i ON i.id = k.invitation_id
           WHERE i.call_id = $1 AND i.ref = $2""",
        call_id,
        ref,
    )
    return ContributionRow.from_record(row) if row is not None else None
