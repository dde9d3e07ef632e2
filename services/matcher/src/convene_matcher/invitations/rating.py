"""A body rates a submitted contribution (of an accepted invitation).

The rating goes to the profiles ratings ledger (contribution id = invitation id) with the
contribution's TEXT -- its answers and comment, in the citizen's own words -- and whether the
call was confidential or restricted. Profiles puts the text on the change feed while the
citizen consents to contributions as evidence (``consent.contributions_as_evidence``), and
``evidence.items`` makes passages of it, weighted by the rating and decayed by its age at
routing time (``MatchingConfig.contribution_rating_weights``, ``rating_half_life_days``).
The call's title is never sent: it is the body's words, and a confidential call's title must
not reach another body. A confidential or restricted call's contribution is evidence marked
private: it counts for matching and a body sees "private evidence" in its place.
"""

from __future__ import annotations

import logging
import uuid

from convene_common.db import Pool
from convene_common.service_client import DownstreamError, DownstreamProblemError
from convene_matcher.clients.profiles import ProfilesClient, RatingSent
from convene_matcher.contributions import repository as contributions
from convene_matcher.contributions.repository import ContributionRow
from convene_matcher.errors import NotFoundError
from convene_matcher.invitations import repository
from convene_matcher.invitations.errors import (
    ContributionNotAcceptedError,
    ContributionNotSubmittedError,
    DuplicateRatingError,
    ProfilesUnavailableError,
)
from convene_matcher.invitations.schemas import RatingCreate, RatingRead

logger = logging.getLogger("convene.matcher.invitations")


def contribution_text(contribution: ContributionRow) -> str:
    """The evidence text: the answers, then the comment, as the citizen wrote them (the
    questions are the body's words and stay out)."""
    parts = [answer["text"] for answer in contribution.answers]
    if contribution.comment:
        parts.append(contribution.comment)
    return "\n\n".join(part.strip() for part in parts if part.strip())


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
        contribution = await contributions.get(connection, invitation_id=row.id)
        if contribution is None:
            raise ContributionNotSubmittedError(
                "The citizen has not submitted a contribution yet; rate it once it is in."
            )
    rating = RatingSent(
        public_body_id=public_body_id,
        contribution_id=row.id,
        rating=body.rating,
        comment=body.comment,
        contribution_text=contribution_text(contribution)[:120_000],
        confidential=row.confidentiality != "public",
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
