"""Every SQL statement about uploaded question-and-answer site answers."""

from __future__ import annotations

import uuid
from uuid import UUID

import asyncpg

from convene_common.db import Connection
from convene_profiles.answers.parsing import AnswerRow

_COLUMNS = (
    "id, citizen_id, site, question_title, answer_text, answered_at, score, accepted, created_at"
)


async def count_answers(connection: Connection, *, citizen_id: UUID) -> int:
    count = await connection.fetchval(
        "SELECT count(*) FROM qa_answer WHERE citizen_id = $1", citizen_id
    )
    return int(count)


async def insert_answers(connection: Connection, *, citizen_id: UUID, rows: list[AnswerRow]) -> int:
    """Inserts the answers not stored yet (by site and answer key); returns how many."""
    if not rows:
        return 0
    inserted = await connection.fetch(
        """INSERT INTO qa_answer (id, citizen_id, site, answer_key, question_title, answer_text,
                                  answered_at, score, accepted)
           SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[],
                                $6::text[], $7::timestamptz[], $8::int[], $9::bool[])
           ON CONFLICT ON CONSTRAINT qa_answer_key DO NOTHING
           RETURNING id""",
        [uuid.uuid4() for _ in rows],
        [citizen_id] * len(rows),
        [row.site for row in rows],
        [row.answer_key for row in rows],
        [row.question_title for row in rows],
        [row.answer_text for row in rows],
        [row.answered_at for row in rows],
        [row.score for row in rows],
        [row.accepted for row in rows],
    )
    return len(inserted)


async def answers_for_citizens(
    connection: Connection, *, citizen_ids: list[UUID]
) -> list[asyncpg.Record]:
    return await connection.fetch(
        f"""SELECT {_COLUMNS} FROM qa_answer WHERE citizen_id = ANY($1::uuid[])
            ORDER BY citizen_id, created_at, id""",
        citizen_ids,
    )


async def delete_all(connection: Connection, *, citizen_id: UUID) -> int:
    result = await connection.execute("DELETE FROM qa_answer WHERE citizen_id = $1", citizen_id)
    return int(result.split()[-1])
