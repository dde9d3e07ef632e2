"""Every SQL statement on ``exposure`` and ``call_match``; functions receive a connection."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from convene_common.db import Connection


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
    return {row["citizen_id"]: (row["this_month"], row["in_window"]) for row in rows}


class MatchRow(NamedTuple):
    """One ``call_match`` row of a match. ``fills`` (the quota roles filled), ``explanation``
    (the candidate as the body sees it) and ``citizen_evidence`` (the items as the citizen's
    own "why you" shows them) are JSON text: serialised by pydantic, not by the pool's
    json.dumps codec row by row."""

    ref: str
    citizen_id: str
    score: float
    position: int
    in_panel: bool
    fills: str
    explanation: str
    citizen_evidence: str | None


# The call's earlier rows stop being its latest ($1 the call, $2 the refs kept: rows about to
# be upserted are left alone, since the upsert sets their latest again and a re-match mostly
# ranks the same people, whose rows were otherwise written twice).
_STALE_ROWS = """
    UPDATE call_match SET latest = false
    WHERE call_id = $1 AND latest AND ref <> ALL($2::text[])
"""
# A match's rows upserted as the latest, in one statement over column arrays (one per
# MatchRow field, $2-$9).
_UPSERT_ROWS = """
    INSERT INTO call_match (call_id, ref, citizen_id, score, position, in_panel, fills,
                            explanation, citizen_evidence, latest, matched_at)
    SELECT $1, r.ref, r.citizen_id, r.score, r.position, r.in_panel,
           ARRAY(SELECT jsonb_array_elements_text(r.fills::jsonb)),
           r.explanation::jsonb, r.citizen_evidence::jsonb, true, clock_timestamp()
    FROM unnest($2::text[], $3::uuid[], $4::float8[], $5::int4[], $6::bool[], $7::text[],
                $8::text[], $9::text[])
         AS r(ref, citizen_id, score, position, in_panel, fills, explanation,
              citizen_evidence)
    ON CONFLICT ON CONSTRAINT call_match_pkey DO UPDATE SET
        score = EXCLUDED.score, position = EXCLUDED.position, in_panel = EXCLUDED.in_panel,
        fills = EXCLUDED.fills, explanation = EXCLUDED.explanation,
        citizen_evidence = EXCLUDED.citizen_evidence, latest = true,
        matched_at = EXCLUDED.matched_at
"""


def _row_columns(rows: Sequence[MatchRow]) -> list[list[object]]:
    """One list per MatchRow field, in its order (empty lists when there are no rows)."""
    return [list(column) for column in zip(*rows, strict=True)] or [[] for _ in MatchRow._fields]


async def save_match(
    connection: Connection, *, call_id: uuid.UUID, rows: Sequence[MatchRow]
) -> None:
    """The call's earlier rows stop being its latest; these rows are upserted as the latest
    (executemany ran the INSERT once per row)."""
    await connection.execute(_STALE_ROWS, call_id, [row.ref for row in rows])
    if rows:
        await connection.execute(_UPSERT_ROWS, call_id, *_row_columns(rows))


async def save_match_and_result(
    connection: Connection, *, call_id: uuid.UUID, rows: Sequence[MatchRow], result_json: str
) -> None:
    """``save_match`` and the call's last match (``result_json``, the MatchResult as JSON
    text, stored as is) in one statement: atomic by itself, one round trip where a
    transaction of three statements took five. The refs the upsert writes are never those
    the update marks stale, so no row is changed twice."""
    await connection.execute(
        f"""
        WITH stale AS ({_STALE_ROWS}), ranked AS ({_UPSERT_ROWS})
        INSERT INTO call_last_match (call_id, result) VALUES ($1, $10::text::jsonb)
        ON CONFLICT (call_id) DO UPDATE
            SET result = excluded.result, matched_at = clock_timestamp()
        """,
        call_id,
        *_row_columns(rows),
        result_json,
    )


async def record_invitation(
    connection: Connection,
    *,
    citizen_id: str,
    public_body_id: uuid.UUID,
    call_id: uuid.UUID | None,
    invited_at: datetime,
) -> None:
    """One exposure row (the invitations work calls this when an invitation is sent)."""
    await connection.execute(
        """INSERT INTO exposure (citizen_id, public_body_id, call_id, invited_at)
           VALUES ($1::uuid, $2, $3, $4)""",
        citizen_id,
        public_body_id,
        call_id,
        invited_at,
    )


async def invitations_in_window(
    connection: Connection, *, month_start: datetime, window_start: datetime
) -> dict[str, tuple[int, int]]:
    """Every citizen invited since the earlier of the two dates -> (this month, in window).

    One scan of the recent ledger instead of a lookup per candidate: routing filters and
    damps tens of thousands of candidates at once, while a window holds far fewer invitees.
    """
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
    return {row["citizen_id"]: (row["this_month"], row["in_window"]) for row in rows}


async def delete_citizens(connection: Connection, *, citizen_ids: list[str]) -> None:
    """Erasure: the citizens' match rows and exposure ledger entries go with them."""
    if not citizen_ids:
        return
    await connection.execute(
        "DELETE FROM call_match WHERE citizen_id = ANY($1::uuid[])", citizen_ids
    )
    await connection.execute("DELETE FROM exposure WHERE citizen_id = ANY($1::uuid[])", citizen_ids)


async def feedback_counts(connection: Connection) -> dict[tuple[str, str], int]:
    """(citizen id, evidence text as shown) -> "not my expertise" declines naming it.

    All of them at once (a decline is rare; the table is small next to the candidates)."""
    rows = await connection.fetch(
        """SELECT citizen_id::text AS citizen_id, evidence_text, count(*) AS n
           FROM evidence_feedback GROUP BY citizen_id, evidence_text"""
    )
    return {(row["citizen_id"], row["evidence_text"]): int(row["n"]) for row in rows}
