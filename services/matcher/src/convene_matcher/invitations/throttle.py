"""A body's invitation figures, and the throttle on bodies nobody answers.

Over the body's invitations of the last ``throttle_window_days``: a body with at least
``throttle_min_due`` due invitations (answered, or older than the grace period) whose
response rate is below ``throttle_min_response_rate`` may send at most
``throttle_daily_invitations`` a day; more is a 429 with Retry-After.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from convene_common.db import Pool
from convene_matcher.config import MatcherSettings
from convene_matcher.invitations import repository
from convene_matcher.invitations.errors import InvitationThrottledError
from convene_matcher.invitations.schemas import BodyStats
from convene_matcher.invitations.views import now_utc


async def figures(
    connection: repository.Connection,
    *,
    settings: MatcherSettings,
    public_body_id: uuid.UUID,
    now: datetime,
) -> tuple[BodyStats, datetime | None]:
    """The body's figures, and its oldest invitation of the last 24 hours (Retry-After)."""
    row = await repository.body_figures(
        connection,
        public_body_id=public_body_id,
        since=now - timedelta(days=settings.throttle_window_days),
        due_before=now - timedelta(hours=settings.throttle_grace_hours),
        day_start=now - timedelta(hours=24),
    )
    sent, answered, due = int(row["sent"]), int(row["answered"]), int(row["due"])
    response_rate = answered / due if due else None
    throttled = (
        due >= settings.throttle_min_due
        and response_rate is not None
        and response_rate < settings.throttle_min_response_rate
    )
    median = row["median_seconds"]
    stats = BodyStats(
        public_body_id=public_body_id,
        window_days=settings.throttle_window_days,
        invitations_sent=sent,
        answered=answered,
        accepted=int(row["accepted"]),
        declined=int(row["declined"]),
        response_rate=round(response_rate, 4) if response_rate is not None else None,
        acceptance_rate=round(int(row["accepted"]) / answered, 4) if answered else None,
        median_hours_to_answer=round(float(median) / 3600, 3) if median is not None else None,
        invitations_last_24h=int(row["last_day"]),
        throttled=throttled,
        throttle_reason=(
            f"response rate {response_rate:.0%} below "
            f"{settings.throttle_min_response_rate:.0%} over {due} invitations: at most "
            f"{settings.throttle_daily_invitations} invitations a day"
            if throttled and response_rate is not None
            else None
        ),
    )
    return stats, row["oldest_in_day"]


async def check(
    connection: repository.Connection,
    *,
    settings: MatcherSettings,
    public_body_id: uuid.UUID,
    wanted: int,
    now: datetime,
) -> None:
    """Raises InvitationThrottledError when ``wanted`` more would pass the daily limit."""
    stats, oldest = await figures(
        connection, settings=settings, public_body_id=public_body_id, now=now
    )
    if not stats.throttled:
        return
    if stats.invitations_last_24h + wanted <= settings.throttle_daily_invitations:
        return
    retry_after = 3600
    if oldest is not None:
        retry_after = max(60, int((oldest + timedelta(hours=24) - now).total_seconds()) + 1)
    raise InvitationThrottledError(
        f"Invitations are limited to {settings.throttle_daily_invitations} a day for this "
        f"organisation: only {stats.response_rate or 0:.0%} of its last "
        f"{stats.invitations_sent} invitations were answered (below "
        f"{settings.throttle_min_response_rate:.0%}). Invite fewer, better-matched people, "
        "or wait for answers.",
        retry_after_seconds=retry_after,
        figures={
            "response_rate": stats.response_rate,
            "invitations_last_24h": stats.invitations_last_24h,
            "daily_limit": settings.throttle_daily_invitations,
        },
    )


async def body_stats(
    *, pool: Pool, settings: MatcherSettings, public_body_id: uuid.UUID
) -> BodyStats:
    async with pool.acquire() as connection:
        stats, _ = await figures(
            connection, settings=settings, public_body_id=public_body_id, now=now_utc()
        )
    return stats
