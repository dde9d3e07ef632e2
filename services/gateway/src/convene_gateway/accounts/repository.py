"""Every SQL statement about accounts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from convene_common.db import Connection

_COLUMNS = "id, kind, email, password_hash, citizen_id, created_at, provisioned_at, disabled_at"


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
) -> AccountRow:
    record = await connection.fetchrow(
        f"""INSERT INTO account (id, kind, email, password_hash, citizen_id, provisioned_at)
            VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 THEN now() END)
            RETURNING {_COLUMNS}""",
        account_id,
        kind,
        email,
        password_hash,
        citizen_id,
        provisioned,
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
