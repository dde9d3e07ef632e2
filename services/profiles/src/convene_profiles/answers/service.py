"""Answers rules: a citizen's upload is their own yes (no confirmation step); it goes through
the per-citizen unit of work, so the new evidence is on the change feed."""

from __future__ import annotations

import asyncio
from uuid import UUID

import asyncpg

from convene_common.db import Pool
from convene_profiles.answers import repository
from convene_profiles.answers.parsing import (
    AnswerRejection,
    AnswerRow,
    AnswersFileError,
    read_answers,
    sniff_format,
)
from convene_profiles.answers.schemas import AnswerList, AnswerRead, AnswersImported
from convene_profiles.config import ProfilesSettings
from convene_profiles.errors import ConflictError, ProfilesError
from convene_profiles.imports.schemas import RejectedRow
from convene_profiles.unit_of_work import citizen_change


class AnswersTooLargeError(ProfilesError):
    status = 413
    slug = "answers-file-too-large"


def answer_read(row: asyncpg.Record) -> AnswerRead:
    return AnswerRead(
        id=row["id"],
        site=row["site"],
        question_title=row["question_title"],
        answer_text=row["answer_text"],
        answered_at=row["answered_at"],
        score=row["score"],
        accepted=row["accepted"],
        created_at=row["created_at"],
    )


class AnswersUnreadableError(ProfilesError):
    status = 422
    slug = "answers-unreadable"


def _parse(content: bytes) -> list[AnswerRow | AnswerRejection]:
    return list(read_answers(content, file_format=sniff_format(content)))


async def import_answers(
    pool: Pool, *, citizen_id: UUID, content: bytes, settings: ProfilesSettings
) -> AnswersImported:
    if len(content) > settings.answers_max_file_bytes:
        raise AnswersTooLargeError(
            f"An answers file may be at most {settings.answers_max_file_bytes} bytes."
        )
    try:
        parsed = await asyncio.to_thread(_parse, content)
    except AnswersFileError as exc:
        raise AnswersUnreadableError(f"The file cannot be read: {exc}.") from exc
    if not parsed:
        # Nothing read at all (e.g. a one-line file that is only a header, or "true"): the
        # file is not an export of answers, and a 201 would say it was taken.
        raise AnswersUnreadableError("The file holds no answers.")
    good = [row for row in parsed if isinstance(row, AnswerRow)]
    rejected = [
        RejectedRow(line=row.number, reason=row.reason)
        for row in parsed
        if isinstance(row, AnswerRejection)
    ]
    limit = settings.max_answers_per_citizen
    async with citizen_change(pool, citizen_id=citizen_id, settings=settings) as connection:
        held = await repository.count_answers(connection, citizen_id=citizen_id)
        if held + len(good) > limit:
            raise ConflictError(
                f"A citizen can keep at most {limit} answers ({held} kept, {len(good)} in "
                "this file).",
                slug="answers-limit-reached",
            )
        imported = await repository.insert_answers(connection, citizen_id=citizen_id, rows=good)
    return AnswersImported(
        imported=imported,
        duplicates=len(good) - imported,
        rejected=rejected,
        total_answers=held + imported,
    )


async def list_answers(pool: Pool, *, citizen_id: UUID) -> AnswerList:
    async with pool.acquire() as connection:
        rows = await repository.answers_for_citizens(connection, citizen_ids=[citizen_id])
    return AnswerList(items=[answer_read(row) for row in rows])


async def delete_answers(pool: Pool, *, citizen_id: UUID, settings: ProfilesSettings) -> int:
    async with citizen_change(pool, citizen_id=citizen_id, settings=settings) as connection:
        return await repository.delete_all(connection, citizen_id=citizen_id)
