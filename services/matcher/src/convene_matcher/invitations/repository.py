"""Every SQL statement of the invitations domain; functions receive a connection."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Connection: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"
Row = asyncpg.Record

# An invitation with what its readers need from call and call_match.
_INVITATION_SELECT = """
    SELECT i.id, i.call_id, i.ref, i.citizen_id, i.public_body_id, i.status, i.message,
           i.hours_offered, i.decline_reason, i.answered_at, i.reminded_at, i.created_at,
           c.title AS call_title, c.public_body_name, c.deadline, c.hours AS hours_asked,
           c.status AS call_status, c.confidentiality, c.description, c.questions, c.skills,
           m.explanation, m.fills,
           r.rating, o.outcome
    FROM invitation i
    JOIN call c ON c.id = i.call_id
    JOIN call_match m ON m.call_id = i.call_id AND m.ref = i.ref
    LEFT JOIN contribution_rating r ON r.invitation_id = i.id
    LEFT JOIN call_outcome o ON o.call_id = i.call_id
"""


# -- calls and matches ---------------------------------------------------------------------
async def lock_call(
    connection: Connection, *, call_id: uuid.UUID, public_body_id: uuid.UUID
) -> Row | None:
    """The body's call, locked until commit: invites and closing of one call serialise."""
    row: Row | None = await connection.fetchrow(
        """SELECT id, public_body_id, title, deadline, hours, status FROM call
           WHERE id = $1 AND public_body_id = $2 FOR UPDATE""",
        call_id,
        public_body_id,
    )
    return row


async def get_call(
    connection: Connection, *, call_id: uuid.UUID, public_body_id: uuid.UUID
) -> Row | None:
    row: Row | None = await connection.fetchrow(
        """SELECT id, public_body_id, title, deadline, hours, status FROM call
           WHERE id = $1 AND public_body_id = $2""",
        call_id,
        public_body_id,
    )
    return row


async def close_call(connection: Connection, *, call_id: uuid.UUID, outcome: str) -> Row:
    await connection.execute("UPDATE call SET status = 'closed' WHERE id = $1", call_id)
    row: Row | None = await connection.fetchrow(
        """INSERT INTO call_outcome (call_id, outcome) VALUES ($1, $2)
           RETURNING call_id, outcome, closed_at""",
        call_id,
        outcome,
    )
    assert row is not None
    return row


async def panel_matches(connection: Connection, *, call_id: uuid.UUID) -> list[Row]:
    rows = await connection.fetch(
        """SELECT ref, citizen_id::text AS citizen_id, fills, explanation FROM call_match
           WHERE call_id = $1 AND latest AND in_panel ORDER BY position NULLS LAST, ref""",
        call_id,
    )
    return list(rows)


async def matches_by_ref(
    connection: Connection, *, call_id: uuid.UUID, refs: list[str]
) -> list[Row]:
    rows = await connection.fetch(
        """SELECT ref, citizen_id::text AS citizen_id, fills, explanation FROM call_match
           WHERE call_id = $1 AND ref = ANY($2::text[])""",
        call_id,
        refs,
    )
    return list(rows)


async def has_match(connection: Connection, *, call_id: uuid.UUID) -> bool:
    found = await connection.fetchval(
        "SELECT 1 FROM call_match WHERE call_id = $1 LIMIT 1", call_id
    )
    return found is not None


# -- idempotency -------------------------------------------------------------------------
async def lock_idempotency_key(
    connection: Connection, *, public_body_id: uuid.UUID, idempotency_key: str
) -> None:
    await connection.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 20))",
        f"invitation-request:{public_body_id}:{idempotency_key}",
    )


async def get_request(
    connection: Connection, *, public_body_id: uuid.UUID, idempotency_key: str
) -> Row | None:
    row: Row | None = await connection.fetchrow(
        """SELECT call_id, request_hash, response FROM invitation_request
           WHERE public_body_id = $1 AND idempotency_key = $2""",
        public_body_id,
        idempotency_key,
    )
    return row


async def save_request(
    connection: Connection,
    *,
    public_body_id: uuid.UUID,
    idempotency_key: str,
    call_id: uuid.UUID,
    request_hash: bytes,
    response: dict[str, Any],
) -> None:
    await connection.execute(
        """INSERT INTO invitation_request
               (public_body_id, idempotency_key, call_id, request_hash, response)
           VALUES ($1, $2, $3, $4, $5::jsonb)""",
        public_body_id,
        idempotency_key,
        call_id,
        request_hash,
        response,
    )


# -- invitations -------------------------------------------------------------------------
async def lock_citizens(connection: Connection, *, citizen_ids: list[str]) -> None:
    """Per-citizen transaction locks (sorted: no deadlocks) so caps hold across bodies."""
    for citizen_id in sorted(citizen_ids):
        await connection.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 20))", f"exposure:{citizen_id}"
        )


async def invited_citizens(connection: Connection, *, call_id: uuid.UUID) -> set[str]:
    rows = await connection.fetch(
        "SELECT citizen_id::text AS citizen_id FROM invitation WHERE call_id = $1", call_id
    )
    return {row["citizen_id"] for row in rows}


async def insert_invitation(
    connection: Connection,
    *,
    invitation_id: uuid.UUID,
    call_id: uuid.UUID,
    ref: str,
    citizen_id: str,
    public_body_id: uuid.UUID,
    message: str | None,
    created_at: datetime,
) -> None:
    await connection.execute(
        """INSERT INTO invitation (id, call_id, ref, citizen_id, public_body_id, message,
                                   created_at)
           VALUES ($1, $2, $3, $4::uuid, $5, $6, $7)""",
        invitation_id,
        call_id,
        ref,
        citizen_id,
        public_body_id,
        message,
        created_at,
    )


async def list_for_call(connection: Connection, *, call_id: uuid.UUID) -> list[Row]:
    rows = await connection.fetch(
        _INVITATION_SELECT + " WHERE i.call_id = $1 ORDER BY i.created_at, i.id", call_id
    )
    return list(rows)


async def get_for_call_ref(connection: Connection, *, call_id: uuid.UUID, ref: str) -> Row | None:
    row: Row | None = await connection.fetchrow(
        _INVITATION_SELECT + " WHERE i.call_id = $1 AND i.ref = $2", call_id, ref
    )
    return row


async def get_for_citizen(
    connection: Connection, *, invitation_id: uuid.UUID, citizen_id: uuid.UUID, lock: bool = False
) -> Row | None:
    query = _INVITATION_SELECT + " WHERE i.id = $1 AND i.citizen_id = $2"
    if lock:
        query += " FOR UPDATE OF i"
    row: Row | None = await connection.fetchrow(query, invitation_id, citizen_id)
    return row


async def list_for_citizen(
    connection: Connection,
    *,
    citizen_id: uuid.UUID,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[Row]:
    if after is None:
        rows = await connection.fetch(
            _INVITATION_SELECT
            + " WHERE i.citizen_id = $1 ORDER BY i.created_at DESC, i.id DESC LIMIT $2",
            citizen_id,
            limit,
        )
    else:
        rows = await connection.fetch(
            _INVITATION_SELECT
            + """ WHERE i.citizen_id = $1 AND (i.created_at, i.id) < ($2, $3)
                  ORDER BY i.created_at DESC, i.id DESC LIMIT $4""",
            citizen_id,
            after[0],
            after[1],
            limit,
        )
    return list(rows)


async def set_answer(
    connection: Connection,
    *,
    invitation_id: uuid.UUID,
    status: str,
    hours_offered: float | None,
    decline_reason: str | None,
    answered_at: datetime | None,
) -> None:
    await connection.execute(
        """UPDATE invitation SET status = $2, hours_offered = $3, decline_reason = $4,
               answered_at = $5
           WHERE id = $1""",
        invitation_id,
        status,
        hours_offered,
        decline_reason,
        answered_at,
    )


async def get_for_call(
    connection: Connection, *, call_id: uuid.UUID, invitation_id: uuid.UUID, lock: bool = False
) -> Row | None:
    query = _INVITATION_SELECT + " WHERE i.id = $1 AND i.call_id = $2"
    if lock:
        query += " FOR UPDATE OF i"
    row: Row | None = await connection.fetchrow(query, invitation_id, call_id)
    return row


async def withdraw(connection: Connection, *, invitation_id: uuid.UUID) -> None:
    """One invitation withdrawn by its body; its answer (if any) is kept for the record."""
    await connection.execute(
        "UPDATE invitation SET status = 'withdrawn' WHERE id = $1", invitation_id
    )


async def withdraw_pending(connection: Connection, *, call_id: uuid.UUID) -> int:
    result = await connection.execute(
        "UPDATE invitation SET status = 'withdrawn' WHERE call_id = $1 AND status = 'pending'",
        call_id,
    )
    return int(result.split()[-1])


async def accepted_citizens(connection: Connection, *, call_id: uuid.UUID) -> list[Row]:
    rows = await connection.fetch(
        """SELECT id, citizen_id::text AS citizen_id FROM invitation
           WHERE call_id = $1 AND status = 'accepted' ORDER BY id""",
        call_id,
    )
    return list(rows)


async def due_reminders(connection: Connection, *, now: datetime, before: timedelta) -> list[Row]:
    """Pending, unreminded invitations whose open call's deadline is within ``before`` from
    now, invited before that window opened (a late invitation gets no instant reminder)."""
    rows = await connection.fetch(
        """SELECT i.id, i.citizen_id::text AS citizen_id
           FROM invitation i JOIN call c ON c.id = i.call_id
           WHERE i.status = 'pending' AND i.reminded_at IS NULL AND c.status = 'open'
             AND c.deadline > $1 AND c.deadline <= $1 + $2::interval
             AND i.created_at < c.deadline - $2::interval
           ORDER BY i.id
           LIMIT 500
           FOR UPDATE OF i SKIP LOCKED""",
        now,
        before,
    )
    return list(rows)


async def mark_reminded(connection: Connection, *, invitation_ids: list[uuid.UUID]) -> None:
    await connection.execute(
        "UPDATE invitation SET reminded_at = clock_timestamp() WHERE id = ANY($1::uuid[])",
        invitation_ids,
    )


# -- ratings and feedback ----------------------------------------------------------------
async def insert_rating(
    connection: Connection,
    *,
    invitation_id: uuid.UUID,
    public_body_id: uuid.UUID,
    rating: int,
    comment: str | None,
) -> Row | None:
    """None when this body already rated the contribution."""
    row: Row | None = await connection.fetchrow(
        """INSERT INTO contribution_rating (invitation_id, public_body_id, rating, comment)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT ON CONSTRAINT contribution_rating_pkey DO NOTHING
           RETURNING rating, comment, created_at""",
        invitation_id,
        public_body_id,
        rating,
        comment,
    )
    return row


async def add_feedback(
    connection: Connection, *, invitation_id: uuid.UUID, citizen_id: uuid.UUID, texts: list[str]
) -> None:
    await connection.executemany(
        """INSERT INTO evidence_feedback (invitation_id, citizen_id, evidence_text)
           VALUES ($1, $2, $3) ON CONFLICT DO NOTHING""",
        [(invitation_id, citizen_id, text) for text in texts],
    )


async def remove_feedback(connection: Connection, *, invitation_id: uuid.UUID) -> None:
    await connection.execute(
        "DELETE FROM evidence_feedback WHERE invitation_id = $1", invitation_id
    )


async def feedback_counts(
    connection: Connection, *, citizen_ids: list[str]
) -> dict[tuple[str, str], int]:
    """(citizen id, evidence text) -> how many "not my expertise" declines named it."""
    if not citizen_ids:
        return {}
    rows = await connection.fetch(
        """SELECT citizen_id::text AS citizen_id, evidence_text, count(*) AS n
           FROM evidence_feedback WHERE citizen_id = ANY($1::uuid[])
           GROUP BY citizen_id, evidence_text""",
        citizen_ids,
    )
    return {(row["citizen_id"], row["evidence_text"]): row["n"] for row in rows}


# -- figures -----------------------------------------------------------------------------
async def body_figures(
    connection: Connection,
    *,
    public_body_id: uuid.UUID,
    since: datetime,
    due_before: datetime,
    day_start: datetime,
) -> Row:
    """Counts over the body's invitations since ``since``; "due" = answered or older than
    ``due_before`` (recent unanswered invitations do not count against the response rate)."""
    row: Row | None = await connection.fetchrow(
        """SELECT count(*) AS sent,
                  count(*) FILTER (WHERE answered_at IS NOT NULL) AS answered,
                  count(*) FILTER (WHERE status = 'accepted') AS accepted,
                  count(*) FILTER (WHERE status = 'declined') AS declined,
                  count(*) FILTER (WHERE answered_at IS NOT NULL OR created_at < $3) AS due,
                  count(*) FILTER (WHERE created_at >= $4) AS last_day,
                  min(created_at) FILTER (WHERE created_at >= $4) AS oldest_in_day,
                  percentile_cont(0.5) WITHIN GROUP (
                      ORDER BY extract(epoch FROM answered_at - created_at)
                  ) FILTER (WHERE answered_at IS NOT NULL) AS median_seconds
           FROM invitation WHERE public_body_id = $1 AND created_at >= $2""",
        public_body_id,
        since,
        due_before,
        day_start,
    )
    assert row is not None
    return row


async def exposure_counts(connection: Connection, *, since: datetime) -> list[int]:
    rows = await connection.fetch(
        "SELECT count(*) AS n FROM exposure WHERE invited_at >= $1 GROUP BY citizen_id", since
    )
    return [int(row["n"]) for row in rows]


async def exposure_counts_by_citizen(connection: Connection, *, since: datetime) -> dict[str, int]:
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


async def invitations_this_month(
    connection: Connection, *, citizen_ids: list[str], month_start: datetime
) -> dict[str, int]:
    if not citizen_ids:
        return {}
    rows = await connection.fetch(
        """SELECT citizen_id::text AS citizen_id, count(*) AS n FROM exposure
           WHERE citizen_id = ANY($1::uuid[]) AND invited_at >= $2 GROUP BY citizen_id""",
        citizen_ids,
        month_start,
    )
    return {row["citizen_id"]: int(row["n"]) for row in rows}
