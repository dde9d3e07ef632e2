"""Every SQL statement about accounts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from convene_gateway.dependencies import Connection

_COLUMNS = """id, kind, email, password_hash, citizen_id, created_at, provisioned_at, disabled_at,
    display_name, email_verified_at, pending_email"""


@dataclass(frozen=True)
class AccountRow:
    id: uuid.UUID
    kind: str
    email: str
    password_hash: str
    citizen_id: uuid.UUID | None
    created_at: datetime
    provisioned_at: datetime | None
    disabled_at: datetime | None
    display_name: str
    email_verified_at: datetime | None
    pending_email: str | None

    @property
    def usable(self) -> bool:
        return self.provisioned_at is not None and self.disabled_at is None


def _row(record: asyncpg.Record | None) -> AccountRow | None:
    return None if record is None else AccountRow(**dict(record))


async def get_by_email(
    connection: Connection, *, email: str, for_update: bool = False
) -> AccountRow | None:
    lock = " FOR UPDATE" if for_update else ""
    record = await connection.fetchrow(
        f"SELECT {_COLUMNS} FROM account WHERE lower(email) = lower($1){lock}", email
    )
    return _row(record)


async def get_by_id(connection: Connection, *, account_id: uuid.UUID) -> AccountRow | None:
    record = await connection.fetchrow(f"SELECT {_COLUMNS} FROM account WHERE id = $1", account_id)
    return _row(record)


async def insert(
    connection: Connection,
    *,
    account_id: uuid.UUID,
    kind: str,
    email: str,
    password_hash: str,
    citizen_id: uuid.UUID | None,
    provisioned: bool,
    verified: bool = True,
    display_name: str = "",
) -> AccountRow:
    record = await connection.fetchrow(
        f"""INSERT INTO account (id, kind, email, password_hash, citizen_id, provisioned_at,
                                 email_verified_at, display_name)
            VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 THEN now() END, CASE WHEN $7 THEN now() END,
                    $8)
            RETURNING {_COLUMNS}""",
        account_id,
        kind,
        email,
        password_hash,
        citizen_id,
        provisioned,
        verified,
        display_name,
    )
    row = _row(record)
    assert row is not None
    return row


async def update_password_hash(
    connection: Connection, *, account_id: uuid.UUID, password_hash: str
) -> None:
    await connection.execute(
        "UPDATE account SET password_hash = $2 WHERE id = $1", account_id, password_hash
    )


async def update_admin(
    connection: Connection, *, account_id: uuid.UUID, email: str, password_hash: str
) -> None:
    await connection.execute(
        """UPDATE account
           SET email = $2, password_hash = $3, disabled_at = NULL,
               provisioned_at = coalesce(provisioned_at, now())
           WHERE id = $1""",
        account_id,
        email,
        password_hash,
    )


async def mark_provisioned(connection: Connection, *, account_id: uuid.UUID) -> None:
    await connection.execute(
        "UPDATE account SET provisioned_at = coalesce(provisioned_at, now()) WHERE id = $1",
        account_id,
    )


async def delete(connection: Connection, *, account_id: uuid.UUID) -> bool:
    result: str = await connection.execute("DELETE FROM account WHERE id = $1", account_id)
    return result.endswith(" 1")


async def set_display_name(
    connection: Connection, *, account_id: uuid.UUID, display_name: str
) -> None:
    await connection.execute(
        "UPDATE account SET display_name = $2 WHERE id = $1", account_id, display_name
    )


async def mark_verified(connection: Connection, *, account_id: uuid.UUID) -> None:
    await connection.execute(
        "UPDATE account SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1",
        account_id,
    )


async def set_pending_email(
    connection: Connection, *, account_id: uuid.UUID, pending_email: str | None
) -> None:
    await connection.execute(
        "UPDATE account SET pending_email = $2 WHERE id = $1", account_id, pending_email
    )


async def apply_pending_email(connection: Connection, *, account_id: uuid.UUID, email: str) -> bool:
    """Makes the verified new address the account's; False if another account took it."""
    taken = await connection.fetchval(
        "SELECT 1 FROM account WHERE lower(email) = lower($1) AND id <> $2", email, account_id
    )
    if taken:
        return False
    await connection.execute(
        """UPDATE account SET email = $2, pending_email = NULL,
               email_verified_at = now() WHERE id = $1""",
        account_id,
        email,
    )
    return True


# -- emailed single-use tokens (stored as sha256) ------------------------------------------


@dataclass(frozen=True)
class AccountTokenRow:
    token_hash: bytes
    purpose: str
    account_id: uuid.UUID | None
    email: str
    organisation_id: uuid.UUID | None
    member_role: str | None
    created_by: uuid.UUID | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


_TOKEN_COLUMNS = """token_hash, purpose, account_id, email, organisation_id, member_role,
    created_by, created_at, expires_at, used_at"""


async def insert_token(
    connection: Connection,
    *,
    token_hash: bytes,
    purpose: str,
    email: str,
    lifetime_seconds: int,
    account_id: uuid.UUID | None = None,
    organisation_id: uuid.UUID | None = None,
    member_role: str | None = None,
    created_by: uuid.UUID | None = None,
) -> AccountTokenRow:
    record = await connection.fetchrow(
        f"""INSERT INTO account_token (token_hash, purpose, account_id, email, organisation_id,
                member_role, created_by, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))
            RETURNING {_TOKEN_COLUMNS}""",
        token_hash,
        purpose,
        account_id,
        email,
        organisation_id,
        member_role,
        created_by,
        float(lifetime_seconds),
    )
    assert record is not None
    return AccountTokenRow(**dict(record))


async def take_token(
    connection: Connection, *, token_hash: bytes, purpose: str
) -> AccountTokenRow | None:
    """Spends a live token of this purpose (locks it; the caller's transaction decides).
    None for unknown, expired, used or other-purpose tokens alike."""
    record = await connection.fetchrow(
        f"""UPDATE account_token SET used_at = now()
            WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()
            RETURNING {_TOKEN_COLUMNS}""",
        token_hash,
        purpose,
    )
    return None if record is None else AccountTokenRow(**dict(record))


async def spend_tokens_of(connection: Connection, *, account_id: uuid.UUID, purpose: str) -> None:
    """Every other live token of the purpose ends too (one reset ends all reset links)."""
    await connection.execute(
        """UPDATE account_token SET used_at = now()
           WHERE account_id = $1 AND purpose = $2 AND used_at IS NULL""",
        account_id,
        purpose,
    )


async def tokens_issued_since(
    connection: Connection, *, account_id: uuid.UUID, purpose: str, seconds: int
) -> int:
    count: int = await connection.fetchval(
        """SELECT count(*) FROM account_token
           WHERE account_id = $1 AND purpose = $2
             AND created_at > now() - make_interval(secs => $3)""",
        account_id,
        purpose,
        float(seconds),
    )
    return count
