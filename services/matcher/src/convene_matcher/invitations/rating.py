"""A body rates a contribution (an accepted invitation).

The rating goes to the profiles ratings ledger (contribution id = invitation id, topic = the
call title) and is recorded here once per body.

The topic becomes the citizen's evidence, shown to every body that routes a call to them
(``candidates[].evidence``). Until contributions carry their own text, only a ``public``
call's title may become that topic: a ``confidential`` or ``restricted`` call's rating is
sent with no topic, so it still counts in the citizen's rating but never shows its text.
"""

from __future__ import annotations

import logging
import uuid

from convene_common.db import Pool
from convene_common.service_client import DownstreamError, DownstreamProblemError
from convene_matcher.clients.profiles import ProfilesClient, RatingSent
from convene_matcher.errors import NotFoundError
from convene_matcher.invitations import repository
from convene_matcher.invitations.errors import (
    ContributionNotAcceptedError,
    DuplicateRatingError,
    ProfilesUnavailableError,
)
from convene_matcher.invitations.schemas import RatingCreate, RatingRead

logger = logging.getLogger("convene.matcher.invitations")

TOPIC_MAX_CHARS = 300


def evidence_topic(*, title: str, confidentiality: str) -> str | None:
    """The call's text a rating may make visible as evidence (None: nothing)."""
    if confidentiality != "public":
        return None
    return title[:TOPIC_MAX_CHARS] or None


async def rate(
    *,
    pool: Pool,
    profiles: ProfilesClient,
    call_id: uuid.UUID,
    public_body_id: uuid.UUID,
    ref: str,
    body: RatingCreate,
) -> RatingRead:
    async with pool.acquire() as connection:
        call = await repository.get_call(connection, call_id=call_id, public_body_id=public_body_id)
        if call is None:
            raise NotFoundError("No such call.")
        row = await repository.get_for_call_ref(connection, call_id=call_id, ref=ref)
        if row is None:
            raise NotFoundError("No invitation of this call has that ref.")
        if row.status != "accepted":
            raise ContributionNotAcceptedError(
                "Only a contribution whose invitation was accepted can be rated."
            )
        if row.rating is not None:
            raise DuplicateRatingError("This contribution has already been rated by you.")
    rating = RatingSent(
        public_body_id=public_body_id,
        contribution_id=row.id,
        rating=body.rating,
        comment=body.comment,
        topic=evidence_topic(title=row.call_title, confidentiality=row.confidentiality),
    )
    try:
        recorded = await profiles.record_rating(citizen_id=row.citizen_id, rating=rating)
    except DownstreamProblemError as exc:
        logger.error("rating refused by profiles", extra={"status": exc.status})
        raise ProfilesUnavailableError(
            "The ratings ledger could not record the rating; try again shortly.",
            headers={"Retry-After": "5"},
        ) from exc
    except DownstreamError as exc:
        raise ProfilesUnavailableError(
            "The ratings ledger is unavailable; try again shortly.", headers={"Retry-After": "5"}
        ) from exc
    async with pool.acquire() as connection:
        saved = await repository.insert_rating(
            connection,
            invitation_id=row.id,
            public_body_id=public_body_id,
            rating=body.rating,
            comment=body.comment,
        )
    if saved is None or not recorded:
        raise DuplicateRatingError("This contribution has already been rated by you.")
    return RatingRead(
        call_id=call_id,
        ref=ref,
        rating=saved["rating"],
        comment=saved["comment"],
        rated_at=saved["created_at"],
    )
