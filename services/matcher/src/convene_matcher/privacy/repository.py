"""Every SQL statement of the matcher's export and erasure; functions receive a connection.

Erasure covers every matcher table that can hold a citizen's id, their texts or their answers
(``tests/matcher/privacy`` walks every table of the schema to hold this): match rows, the
calls' kept last matches that quote them, (by cascade) the invitations on them with their
ratings and feedback, invitations, the
exposure ledger, "not my expertise" feedback, outcome labels, the notifications addressed to
them (and their delivery attempts), their items in the bodies' stored idempotent replies,
and the cached vectors of texts only they held.
"""

from __future__ import annotations

import uuid

import asyncpg

from convene_common.db import Connection

Row = asyncpg.Record


# -- erasure -------------------------------------------------------------------------------
async def erase_citizens(
    connection: Connection,
    *,
    citizen_ids: list[str],
    cache_model: str | None = None,
    text_keys: list[bytes] = (),  # type: ignore[assignment]
) -> None:
    """Deletes everything the matcher holds about ``citizen_ids``; ``text_keys`` are the
    embedding-cache keys of texts no one else holds (for ``cache_model``)."""
    if not citizen_ids:
        return
    ids = citizen_ids
    # Their refs in the bodies' stored replies: the items (with "why you") leave the reply.
    refs = await connection.fetch(
        "SELECT call_id, ref FROM invitation WHERE citizen_id = ANY($1::uuid[])", ids
    )
    if refs:
        await connection.execute(
            """UPDATE invitation_request r SET response = jsonb_set(
                   jsonb_set(r.response, '{items}', coalesce((
                       SELECT jsonb_agg(item) FROM jsonb_array_elements(r.response->'items') item
                       WHERE item->>'ref' <> ALL($2::text[])), '[]'::jsonb)),
                   '{skipped}', coalesce((
                       SELECT jsonb_agg(s) FROM jsonb_array_elements(r.response->'skipped') s
                       WHERE s->>'ref' <> ALL($2::text[])), '[]'::jsonb))
               WHERE r.call_id = ANY($1::uuid[])""",
            list({row["call_id"] for row in refs}),
            [row["ref"] for row in refs],
        )
    await connection.execute(
        "DELETE FROM evidence_feedback WHERE citizen_id = ANY($1::uuid[])", ids
    )
    await connection.execute("DELETE FROM invitation WHERE citizen_id = ANY($1::uuid[])", ids)
    # A call's kept last match (GET /v1/calls/{id}/match) quotes its candidates' evidence:
    # the ones that held them are dropped (the body routes the call again).
    await connection.execute(
        """DELETE FROM call_last_match WHERE call_id IN (
               SELECT call_id FROM call_match WHERE citizen_id = ANY($1::uuid[]))""",
        ids,
    )
    await connection.execute("DELETE FROM call_match WHERE citizen_id = ANY($1::uuid[])", ids)
    await connection.execute("DELETE FROM exposure WHERE citizen_id = ANY($1::uuid[])", ids)
    await connection.execute("DELETE FROM outcome_label WHERE citizen_id = ANY($1::uuid[])", ids)
    # Emails to them (webhooks go to bodies and carry refs only); deliveries cascade.
    await connection.execute(
        "DELETE FROM notification WHERE channel = 'email' AND recipient_id = ANY($1::uuid[])", ids
    )
    if cache_model is not None and text_keys:
        # Every model version's vectors of those texts: a re-embedding job (reembed_job)
        # builds the next version's rows beside the serving ones, and a failed job's stay.
        await connection.execute(
            """DELETE FROM embedding_cache
               WHERE model IN (SELECT $1 UNION SELECT source_model FROM reembed_job
                               UNION SELECT target_model FROM reembed_job)
                 AND text_key = ANY($2::bytea[])""",
            cache_model,
            list(text_keys),
        )


# -- export --------------------------------------------------------------------------------
async def export_invitations(connection: Connection, *, citizen_id: uuid.UUID) -> list[Row]:
    rows = await connection.fetch(
        """SELECT i.id, i.call_id, c.title AS call_title, i.public_body_id, c.public_body_name,
                  c.deadline, c.hours AS hours_asked, i.status, i.message, i.hours_offered,
                  i.decline_reason, i.created_at AS invited_at, i.answered_at, i.reminded_at,
                  m.explanation, m.fills, r.rating, r.comment AS rating_comment,
                  r.created_at AS rated_at, o.outcome, o.closed_at,
                  k.answers AS contribution_answers, k.comment AS contribution_comment,
                  k.submitted_at AS contribution_submitted_at,
                  k.updated_at AS contribution_updated_at,
                  coalesce((SELECT jsonb_agg(e) FROM jsonb_array_elements(o.cited) e
                            WHERE e->>'ref' = i.ref), '[]'::jsonb) AS cited,
                  i.follow_outcome
           FROM invitation i
           JOIN call c ON c.id = i.call_id
           LEFT JOIN call_match m ON m.call_id = i.call_id AND m.ref = i.ref
           LEFT JOIN contribution_rating r ON r.invitation_id = i.id
           LEFT JOIN call_outcome o ON o.call_id = i.call_id
           LEFT JOIN contribution k ON k.invitation_id = i.id
           WHERE i.citizen_id = $1 ORDER BY i.created_at, i.id""",
        citizen_id,
    )
    return list(rows)


async def export_matches(connection: Connection, *, citizen_id: uuid.UUID) -> list[Row]:
    rows = await connection.fetch(
        """SELECT call_id, ref, score, position, in_panel, fills, explanation, latest, matched_at
           FROM call_match WHERE citizen_id = $1 ORDER BY matched_at, call_id""",
        citizen_id,
    )
    return list(rows)


async def export_exposure(connection: Connection, *, citizen_id: uuid.UUID) -> list[Row]:
    rows = await connection.fetch(
        """SELECT public_body_id, call_id, invited_at FROM exposure
           WHERE citizen_id = $1 ORDER BY invited_at""",
        citizen_id,
    )
    return list(rows)


async def export_feedback(connection: Connection, *, citizen_id: uuid.UUID) -> list[Row]:
    rows = await connection.fetch(
        """SELECT invitation_id, evidence_text, created_at FROM evidence_feedback
           WHERE citizen_id = $1 ORDER BY created_at, evidence_text""",
        citizen_id,
    )
    return list(rows)


async def export_outcome_labels(connection: Connection, *, citizen_id: uuid.UUID) -> list[Row]:
    rows = await connection.fetch(
        """SELECT call_id, answer, decline_reason, rating, source, recorded_at
           FROM outcome_label WHERE citizen_id = $1 ORDER BY recorded_at, call_id""",
        citizen_id,
    )
    return list(rows)


async def export_notifications(connection: Connection, *, citizen_id: uuid.UUID) -> list[Row]:
    rows = await connection.fetch(
        """SELECT kind, channel, payload, status, attempts, created_at, sent_at
           FROM notification WHERE channel = 'email' AND recipient_id = $1
           ORDER BY created_at, id""",
        citizen_id,
    )
    return list(rows)
