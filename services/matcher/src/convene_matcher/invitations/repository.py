"""Every SQL statement of the invitations domain; functions receive a connection."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

# Re-exported: services annotate with repository.Connection.
from convene_common.db import Connection as Connection

Row = asyncpg.Record


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class CallRow:
    """A call as the invitation rules need it."""

    id: uuid.UUID
    public_body_id: uuid.UUID
    title: str
    deadline: datetime
    hours: float | None
    status: str
    confidentiality: str

    @classmethod
    def from_record(cls, row: Row) -> CallRow:
        return cls(
            id=row["id"],
            public_body_id=row["public_body_id"],
            title=row["title"],
            deadline=row["deadline"],
            hours=row["hours"],
            status=row["status"],
            confidentiality=row["confidentiality"],
        )


@dataclass(frozen=True, slots=True)
class MatchRow:
    """A candidate of a call's latest (or any) match, by ref."""

    ref: str
    citizen_id: str
    fills: list[str]
    explanation: dict[str, Any]

    @classmethod
    def from_record(cls, row: Row) -> MatchRow:
        return cls(
            ref=row["ref"],
            citizen_id=row["citizen_id"],
            fills=list(row["fills"] or []),
            explanation=_json(row["explanation"]) or {},
        )


@dataclass(frozen=True, slots=True)
class InvitationRow:
    """An invitation with what its readers need from call, call_match, rating and outcome."""

    id: uuid.UUID
    call_id: uuid.UUID
    ref: str
    citizen_id: uuid.UUID
    public_body_id: uuid.UUID
    status: str
    message: str | None
    hours_offered: float | None
    decline_reason: str | None
    answered_at: datetime | None
    reminded_at: datetime | None
    created_at: datetime
    call_title: str
    public_body_name: str
    deadline: datetime
    hours_asked: float | None
    call_status: str
    confidentiality: str
    description: str
    questions: list[str]
    skills: list[dict[str, Any]]
    explanation: dict[str, Any]
    fills: list[str]
    rating: int | None
    outcome: str | None
    # The closing outcome's citations ([{ref, question}]) and whether a citizen who declined
    # asked to be told the outcome.
    cited: list[dict[str, Any]]
    follow_outcome: bool
    # "Why you" as its citizen sees it (private items in full); None for older matches.
    citizen_evidence: list[dict[str, Any]] | None = None

    @classmethod
    def from_record(cls, row: Row) -> InvitationRow:
        return cls(
            id=row["id"],
            call_id=row["call_id"],
            ref=row["ref"],
            citizen_id=row["citizen_id"],
            public_body_id=row["public_body_id"],
            status=row["status"],
            message=row["message"],
            hours_offered=row["hours_offered"],
            decline_reason=row["decline_reason"],
            answered_at=row["answered_at"],
            reminded_at=row["reminded_at"],
            created_at=row["created_at"],
            call_title=row["call_title"],
            public_body_name=row["public_body_name"],
            deadline=row["deadline"],
            hours_asked=row["hours_asked"],
            call_status=row["call_status"],
            confidentiality=row["confidentiality"],
            description=row["description"],
            questions=list(_json(row["questions"]) or []),
            skills=list(_json(row["skills"]) or []),
            explanation=_json(row["explanation"]) or {},
            fills=list(row["fills"] or []),
            rating=row["rating"],
            outcome=row["outcome"],
            cited=list(_json(row["cited"]) or []),
            follow_outcome=row["follow_outcome"],
            citizen_evidence=_json(row["citizen_evidence"]),
        )

    @property
    def evidence(self) -> list[dict[str, Any]]:
        """The evidence shown to the body (as stored in the match's explanation)."""
        evidence = self.explanation.get("evidence", [])
        return evidence if isinstance(evidence, list) else []

    @property
    def evidence_for_citizen(self) -> list[dict[str, Any]]:
        """The citizen's own "why you": their private items in full, marked private. A match
        made before that was kept falls back to the body's view."""
        if isinstance(self.citizen_evidence, list):
            return self.citizen_evidence
        return self.evidence


def _invitation(row: Row | None) -> InvitationRow | None:
    return InvitationRow.from_record(row) if row is not None else None


# An invitation with what its readers need from call and call_match.
_INVITATION_SELECT = """
    SELECT i.id, i.call_id, i.ref, i.citizen_id, i.public_body_id, i.status, i.message,
           i.hours_offered, i.decline_reason, i.answered_at, i.reminded_at, i.created_at,
           c.title AS call_title, c.public_body_name, c.deadline, c.hours AS hours_asked,
           c.status AS call_status, c.confidentiality, c.description, c.questions, c.skills,
           m.explanation, m.citizen_evidence, m.fills,
           r.rating, o.outcome, o.cited, i.follow_outcome
    FROM invitation i
    JOIN call c ON c.id = i.call_id
    JOIN call_match m ON m.call_id = i.call_id AND m.ref = i.ref
    LEFT JOIN contribution_rating r ON r.invitation_id = i.id
    LEFT JOIN call_outcome o ON o.call_id = i.call_id
"""


# -- calls and matches ---------------------------------------------------------------------
_CALL_SELECT = """SELECT id, public_body_id, title, deadline, hours, status, confidentiality
    FROM call WHERE id = $1 AND public_body_id = $2"""


async def lock_call(
    connection: Connection, *, call_id: uuid.UUID, public_body_id: uuid.UUID
) -> CallRow | None:
    """The body's call, locked until commit: invites and closing of one call serialise."""
    row: Row | None = await connection.fetchrow(
        _CALL_SELECT + " FOR UPDATE", call_id, public_body_id
    )
    return CallRow.from_record(row) if row is not None else None


async def get_call(
    connection: Connection, *, call_id: uuid.UUID, public_body_id: uuid.UUID
) -> CallRow | None:
    row: Row | None = await connection.fetchrow(_CALL_SELECT, call_id, public_body_id)
    return CallRow.from_record(row) if row is not None else None


async def close_call(
    connection: Connection, *, call_id: uuid.UUID, outcome: str, cited: list[dict[str, Any]]
) -> Row:
    await connection.execute("UPDATE call SET status = 'closed' WHERE id = $1", call_id)
    row: Row | None = await connection.fetchrow(
        """INSERT INTO call_outcome (call_id, outcome, cited) VALUES ($1, $2, $3::jsonb)
           RETURNING call_id, outcome, closed_at, cited""",
        call_id,
        outcome,
        cited,
    )
    assert row is not None
    return row


async def panel_matches(connection: Connection, *, call_id: uuid.UUID) -> list[MatchRow]:
    rows = await connection.fetch(
        """SELECT ref, citizen_id::text AS citizen_id, fills, explanation FROM call_match
           WHERE call_id = $1 AND latest AND in_panel ORDER BY position NULLS LAST, ref""",
        call_id,
    )
    return [MatchRow.from_record(row) for row in rows]


async def matches_by_ref(
    connection: Connection, *, call_id: uuid.UUID, refs: list[str]
) -> list[MatchRow]:
    rows = await connection.fetch(
        """SELECT ref, citizen_id::text AS citizen_id, fills, explanation FROM call_match
           WHERE call_id = $1 AND ref = ANY($2::text[])""",
        call_id,
        refs,
    )
    return [MatchRow.from_record(row) for row in rows]


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


async def list_for_call(connection: Connection, *, call_id: uuid.UUID) -> list[InvitationRow]:
    rows = await connection.fetch(
        _INVITATION_SELECT + " WHERE i.call_id = $1 ORDER BY i.created_at, i.id", call_id
    )
    return [InvitationRow.from_record(row) for row in rows]


async def get_for_call_ref(
    connection: Connection, *, call_id: uuid.UUID, ref: str
) -> InvitationRow | None:
    row: Row | None = await connection.fetchrow(
        _INVITATION_SELECT + " WHERE i.call_id = $1 AND i.ref = $2", call_id, ref
    )
    return _invitation(row)


async def get_for_citizen(
    connection: Connection, *, invitation_id: uuid.UUID, citizen_id: uuid.UUID, lock: bool = False
) -> InvitationRow | None:
    query = _INVITATION_SELECT + " WHERE i.id = $1 AND i.citizen_id = $2"
    if lock:
        query += " FOR UPDATE OF i"
    row: Row | None = await connection.fetchrow(query, invitation_id, citizen_id)
    return _invitation(row)


async def list_for_citizen(
    connection: Connection,
    *,
    citizen_id: uuid.UUID,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[InvitationRow]:
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
    return [InvitationRow.from_record(row) for row in rows]


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
) -> InvitationRow | None:
    query = _INVITATION_SELECT + " WHERE i.id = $1 AND i.call_id = $2"
    if lock:
        query += " FOR UPDATE OF i"
    row: Row | None = await connection.fetchrow(query, invitation_id, call_id)
    return _invitation(row)


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


async def outcome_followers(connection: Connection, *, call_id: uuid.UUID) -> list[Row]:
    """Citizens who declined and asked to be told the outcome."""
    rows = await connection.fetch(
        """SELECT id, citizen_id::text AS citizen_id FROM invitation
           WHERE call_id = $1 AND status = 'declined' AND follow_outcome ORDER BY id""",
        call_id,
    )
    return list(rows)


async def set_follow_outcome(connection: Connection, *, invitation_id: uuid.UUID) -> None:
    await connection.execute(
        "UPDATE invitation SET follow_outcome = true WHERE id = $1", invitation_id
    )


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
