from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

from convene_common.cursors import decode_cursor, encode_cursor
from convene_common.db import Pool
from convene_profiles.config import ProfilesSettings
from convene_profiles.errors import CitizenNotFoundError, DuplicateRatingError, InvalidCursorError
from convene_profiles.profile_state import load_states, rating_aggregate, rating_read
from convene_profiles.ratings import repository
from convene_profiles.ratings.schemas import RatingCreate, RatingList, RatingRead
from convene_profiles.unit_of_work import citizen_change


async def add_rating(
    pool: Pool, *, citizen_id: UUID, data: RatingCreate, settings: ProfilesSettings
) -> RatingRead:
    async with citizen_change(pool, citizen_id=citizen_id, settings=settings) as connection:
        row = await repository.insert_rating(
            connection,
            rating_id=uuid.uuid4(),
            citizen_id=citizen_id,
            public_body_id=data.public_body_id,
            contribution_id=data.contribution_id,
            rating=data.rating,
            comment=data.comment,
            topic=data.topic,
            contribution_text=data.contribution_text,
            confidential=data.confidential,
        )
        if row is None:
            raise DuplicateRatingError(
                "This public body has already rated this contribution; ratings are final."
            )
    return rating_read(row)


def _decode(cursor: str) -> tuple[datetime, UUID]:
    rated_at, rating_id = decode_cursor(cursor, arity=2)
    try:
        return datetime.fromisoformat(str(rated_at)), UUID(str(rating_id))
    except ValueError as exc:
        raise InvalidCursorError("The cursor is malformed; use next_cursor as given.") from exc


async def list_ratings(
    pool: Pool, *, citizen_id: UUID, limit: int, cursor: str | None, settings: ProfilesSettings
) -> RatingList:
    after = _decode(cursor) if cursor is not None else None
    async with pool.acquire() as connection:
        states = await load_states(connection, citizen_ids=[citizen_id])
        if citizen_id not in states:
            raise CitizenNotFoundError(f"No citizen with id {citizen_id}.")
        rows = await repository.list_ratings(
            connection, citizen_id=citizen_id, after=after, limit=limit + 1
        )
    page = rows[:limit]
    next_cursor = (
        encode_cursor([page[-1]["rated_at"].isoformat(), str(page[-1]["id"])])
        if len(rows) > limit
        else None
    )
    return RatingList(
        items=[rating_read(row) for row in page],
        aggregate=rating_aggregate(states[citizen_id].ratings, policy=settings.rating_policy()),
        next_cursor=next_cursor,
    )
