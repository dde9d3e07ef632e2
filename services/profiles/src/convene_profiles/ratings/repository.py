"""Every SQL statement about the ratings ledger."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from convene_common.db import Connection

_COLUMNS = (
    "id, citizen_id, public_body_id, contribution_id, rating, comment, topic, rated_at, "
    "contribution_text, confidential"
)


async def insert_rating(
    connection: Connection,
    *,
    rating_id: UUID,
    citizen_id: UUID,
    public_body_id: UUID,
    contribution_id: UUID,
    rating: int,
    comment: str | None,
    topic: str | None,
    contribution_text: str | None,
    confidential: bool,
) -> asyncpg.Record | None:
    """Inserts; None when this body already rated this contribution."""
    return await connection.fetchrow(
        f"""INSERT INTO rating (id, citizen_id, public_body_id, contribution_id, rating, comment,
                topic, contribution_text, confidential)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            ON CONFLICT ON CONSTRAINT rating_contribution_body_key DO NOTHING
            RETURNING {_COLUMNS}""",
        rating_id,
        citizen_id,
        public_body_id,
        contribution_id,
        rating,
        comment,
        topic,
        contribution_text,
        confidential,
    )


async def ratings_for_citizens(
    connection: Connection, *, citizen_ids: list[UUID]
) -> list[asyncpg.Record]:
    return await connection.fetch(
        f"""SELECT {_COLUMNS} FROM rating WHERE citizen_id = ANY($1::uuid[])
            ORDER BY citizen_id, rated_at, id""",
        citizen_ids,
    )


async def list_ratings(
    connection: Connection,
    *,
    citizen_id: UUID,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    after_at, after_id = after if after else (None, None)
    return await connection.fetch(
        f"""SELECT {_COLUMNS} FROM rating
            WHERE citizen_id = $1 AND ($2::timestamptz IS NULL OR (rated_at, id) > ($2, $3))
            ORDER BY rated_at, id LIMIT $4""",
        citizen_id,
        after_at,
        after_id,
        limit,
    )
