"""Every SQL statement about sign-in sessions and their refresh tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from convene_gateway.dependencies import Connection


@dataclass(frozen=True)
class SessionState:
    """A session joined with its account and membership, as one per-request lookup reads it."""

    session_id: uuid.UUID
    account_id: uuid.UUID
    kind: str
    citizen_id: uuid.UUID | None
    email_verified: bool
    usable: bool
    live: bool
    organisation_id: uuid.UUID | None
    member_role: str | None


@dataclass(frozen=True)
class RefreshTokenState:
    session_id: uuid.UUID
    account_id: uuid.UUID
    used: bool
    session_live: bool
    second_factor: bool


async def create_session(
    connection: Connection,
    *,
    session_id: uuid.UUID,
    account_id: uuid.UUID,
    lifetime_seconds: int,
    second_factor: bool,
) -> None:
    await connection.execute(
        """INSERT INTO auth_session (id, account_id, expires_at, second_factor)
           VALUES ($1, $2, now() + make_interval(secs => $3), $4)""",
        session_id,
        account_id,
        float(lifetime_seconds),
        second_factor,
    )


async def session_second_factor(connection: Connection, *, session_id: uuid.UUID) -> bool:
    value: bool | None = await connection.fetchval(
        "SELECT second_factor FROM auth_session WHERE id = $1", session_id
    )
    return bool(value)


async def insert_refresh_token(
    connection: Connection, *, token_hash: bytes, session_id: uuid.UUID
) -> None:
    await connection.execute(
        "INSERT INTO refresh_token (token_hash, session_id) VALUES ($1, $2)",
        token_hash,
        session_id,
    )


async def get_session_state(
    connection: Connection, *, session_id: uuid.UUID
) -> SessionState | None:
    record = await connection.fetchrow(
        """SELECT s.id AS session_id, a.id AS account_id, a.kind, a.citizen_id,
                  a.email_verified_at IS NOT NULL AS email_verified,
                  (a.provisioned_at IS NOT NULL AND a.disabled_at IS NULL) AS usable,
                  (s.revoked_at IS NULL AND s.expires_at > now()) AS live,
                  m.organisation_id, m.role AS member_role
           FROM auth_session s
           JOIN account a ON a.id = s.account_id
           LEFT JOIN organisation_member m ON m.account_id = a.id
           WHERE s.id = $1""",
        session_id,
    )
    return None if record is None else SessionState(**dict(record))


async def use_refresh_token(
    connection: Connection, *, token_hash: bytes
) -> RefreshTokenState | None:
    """Marks the token used (once) and tells whether it had been used before. Locks the row,
    so two concurrent uses of one token are one use and one reuse."""
    record = await connection.fetchrow(
        """SELECT r.session_id, s.account_id, r.used_at IS NOT NULL AS used,
                  (s.revoked_at IS NULL AND s.expires_at > now()) AS session_live,
                  s.second_factor
           FROM refresh_token r JOIN auth_session s ON s.id = r.session_id
           WHERE r.token_hash = $1
           FOR UPDATE OF r""",
        token_hash,
    )
    if record is None:
        return None
    state = RefreshTokenState(**dict(record))
    if not state.used:
        await connection.execute(
            "UPDATE refresh_token SET used_at = now() WHERE token_hash = $1", token_hash
        )
        await connection.execute(
            "UPDATE auth_session SET refreshed_at = now() WHERE id = $1", state.session_id
        )
    return state


async def revoke_session(
    connection: Connection, *, session_id: uuid.UUID, reason: str
) -> list[uuid.UUID]:
    rows = await connection.fetch(
        """UPDATE auth_session SET revoked_at = now(), revoked_reason = $2
           WHERE id = $1 AND revoked_at IS NULL RETURNING id""",
        session_id,
        reason,
    )
    return [row["id"] for row in rows]


async def revoke_account_sessions(
    connection: Connection,
    *,
    account_id: uuid.UUID,
    reason: str,
    keep_session_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    rows = await connection.fetch(
        """UPDATE auth_session SET revoked_at = now(), revoked_reason = $2
           WHERE account_id = $1 AND revoked_at IS NULL AND id IS DISTINCT FROM $3
           RETURNING id""",
        account_id,
        reason,
        keep_session_id,
    )
    return [row["id"] for row in rows]


async def live_session_ids(connection: Connection, *, account_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await connection.fetch(
        "SELECT id FROM auth_session WHERE account_id = $1 AND revoked_at IS NULL", account_id
    )
    return [row["id"] for row in rows]


async def session_expires_at(connection: Connection, *, session_id: uuid.UUID) -> datetime | None:
    value: datetime | None = await connection.fetchval(
        "SELECT expires_at FROM auth_session WHERE id = $1", session_id
    )
    return value
