"""Every SQL statement on the exposure ledger (``exposure``), the "not my expertise"
feedback reads (``evidence_feedback``) and a citizen's accepted hours; functions receive a
connection."""

from __future__ import annotations

import uuid
from datetime import datetime

from convene_common.db import Connection


# -- recording ---------------------------------------------------------------------------
async def record_invitation(
    connection: Connection,
    *,
    citizen_id: str,
    public_body_id: uuid.UUID,
    call_id: uuid.UUID | None,
    invited_at: datetime,
) -> None:
    """One exposure row (written in the transaction that sends the invitation)."""
    await connection.execute(
        """INSERT INTO exposure (citizen_id, public_body_id, call_id, invited_at)
           VALUES ($1::uuid, $2, $3, $4)""",
        citizen_id,
        public_body_id,
        call_id,
        invited_at,
    )


# -- counts in a window ------------------------------------------------------------------
async def invitations_since(
    connection: Connection, *, citizen_ids: list[str], since: datetime
) -> dict[str, int]:
    """citizen id -> invitations (all bodies) since ``since``; absent: none."""
    if not citizen_ids:
        return {}
    rows = await connection.fetch(
        """SELECT citizen_id::text AS citizen_id, count(*) AS n FROM exposure
           WHERE citizen_id = ANY($1::uuid[]) AND invited_at >= $2 GROUP BY citizen_id""",
        citizen_ids,
        since,
    )
    return {row["citizen_id"]: int(row["n"]) for row in rows}


async def invitation_counts(
    connection: Connection,
    *,
    citizen_ids: list[str],
    month_start: datetime,
    window_start: datetime,
) -> dict[str, tuple[int, int]]:
    """citizen id -> (invitations since month_start, since window_start), all bodies."""
    if not citizen_ids:
        return {}
    rows = await connection.fetch(
        """
        SELECT citizen_id::text AS citizen_id,
               count(*) FILTER (WHERE invited_at >= $2) AS this_month,
               count(*) FILTER (WHERE invited_at >= $3) AS in_window
        FROM exposure
        WHERE citizen_id = ANY($1::uuid[]) AND invited_at >= least($2, $3)
        GROUP BY citizen_id
        """,
        citizen_ids,
        month_start,
        window_start,
    )
    return {row["citizen_id"]: (int(row["this_month"]), int(row["in_window"])) for row in rows}


async def invitations_in_window(
    connection: Connection, *, month_start: datetime, window_start: datetime
) -> dict[str, tuple[int, int]]:
    """Every citizen invited since the earlier of the two dates -> (this month, in window)."""
    rows = await connection.fetch(
        """
        SELECT citizen_id::text AS citizen_id,
               count(*) FILTER (WHERE invited_at >= $1) AS this_month,
               count(*) FILTER (WHERE invited_at >= $2) AS in_window
        FROM exposure
        WHERE invited_at >= least($1, $2)
        GROUP BY citizen_id
        """,
        month_start,
        window_start,
    )
    return {row["citizen_id"]: (int(row["this_month"]), int(row["in_window"])) for row in rows}


# -- hours -------------------------------------------------------------------------------
async def accepted_hours(
    connection: Connection,
    *,
    month_start: datetime,
    month_end: datetime,
    citizen_ids: list[str] | None = None,
    excluding_invitation: uuid.UUID | None = None,
) -> dict[str, float]:
    """citizen id -> hours accepted for calls whose deadline falls in [month_start,
    month_end): hours_offered, or the call's hours when none were offered. ``citizen_ids``
    None: every citizen with accepted hours in the month (routing's one scan)."""
    rows = await connection.fetch(
        """SELECT i.citizen_id::text AS citizen_id,
                  sum(coalesce(i.hours_offered, c.hours, 0)) AS hours
           FROM invitation i JOIN call c ON c.id = i.call_id
           WHERE i.status = 'accepted' AND c.deadline >= $1 AND c.deadline < $2
             AND ($3::uuid[] IS NULL OR i.citizen_id = ANY($3::uuid[]))
             AND ($4::uuid IS NULL OR i.id <> $4)
           GROUP BY i.citizen_id""",
        month_start,
        month_end,
        citizen_ids,
        excluding_invitation,
    )
    return {row["citizen_id"]: float(row["hours"]) for row in rows}


# -- feedback ----------------------------------------------------------------------------
async def feedback_counts(
    connection: Connection, *, citizen_ids: list[str] | None = None
) -> dict[tuple[str, str], int]:
    """(citizen id, evidence text as shown) -> "not my expertise" declines naming it; all
    citizens when ``citizen_ids`` is None (a decline is rare; the table stays small)."""
    if citizen_ids is not None and not citizen_ids:
        return {}
    rows = await connection.fetch(
        """SELECT citizen_id::text AS citizen_id, evidence_text, count(*) AS n
           FROM evidence_feedback
           WHERE $1::uuid[] IS NULL OR citizen_id = ANY($1::uuid[])
           GROUP BY citizen_id, evidence_text""",
        citizen_ids,
    )
    return {(row["citizen_id"], row["evidence_text"]): int(row["n"]) for row in rows}


# -- figures -----------------------------------------------------------------------------
async def exposure_counts(connection: Connection, *, since: datetime) -> list[int]:
    """Invitations per invited citizen since ``since`` (the never-invited are absent)."""
    rows = await connection.fetch(
        "SELECT count(*) AS n FROM exposure WHERE invited_at >= $1 GROUP BY citizen_id", since
    )
    return [int(row["n"]) for row in rows]


async def exposure_counts_by_citizen(connection: Connection, *, since: datetime) -> dict[str, int]:
    """Invitations per invited citizen since ``since``, by citizen id."""
    rows = await connection.fetch(
        """SELECT citizen_id::text AS citizen_id, count(*) AS n FROM exposure
           WHERE invited_at >= $1 GROUP BY citizen_id""",
        since,
    )
    return {row["citizen_id"]: int(row["n"]) for row in rows}


async def new_voices(connection: Connection, *, since: datetime) -> tuple[int, int]:
    """(accepted invitations since, of which the citizen had no earlier exposure)."""
    row = await connection.fetchrow(
        """SELECT count(*) AS accepted,
                  count(*) FILTER (WHERE NOT EXISTS (
                      SELECT 1 FROM exposure e
                      WHERE e.citizen_id = i.citizen_id AND e.invited_at < i.created_at
                  )) AS new_voices
           FROM invitation i WHERE i.status = 'accepted' AND i.created_at >= $1""",
        since,
    )
    assert row is not None
    return int(row["accepted"]), int(row["new_voices"])
