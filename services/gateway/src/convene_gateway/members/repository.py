"""Every SQL statement about organisation members."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from convene_gateway.dependencies import Connection


@dataclass(frozen=True)
class MemberRow:
    account_id: uuid.UUID
    organisation_id: uuid.UUID
    role: str
    email: str
    display_name: str
    joined_at: datetime


_SELECT = """SELECT m.account_id, m.organisation_id, m.role, a.email, a.display_name, m.joined_at
    FROM organisation_member m JOIN account a ON a.id = m.account_id"""


async def get_member(connection: Connection, *, account_id: uuid.UUID) -> MemberRow | None:
    record = await connection.fetchrow(f"{_SELECT} WHERE m.account_id = $1", account_id)
    return None if record is None else MemberRow(**dict(record))


async def list_members(connection: Connection, *, organisation_id: uuid.UUID) -> list[MemberRow]:
    records = await connection.fetch(
        f"{_SELECT} WHERE m.organisation_id = $1 ORDER BY m.joined_at, m.account_id",
        organisation_id,
    )
    return [MemberRow(**dict(record)) for record in records]


async def lock_managers(connection: Connection, *, organisation_id: uuid.UUID) -> list[uuid.UUID]:
    """The organisation's managers, locked for this transaction (the last-manager rule)."""
    records = await connection.fetch(
        """SELECT account_id FROM organisation_member
           WHERE organisation_id = $1 AND role = 'manager' ORDER BY account_id FOR UPDATE""",
        organisation_id,
    )
    return [record["account_id"] for record in records]


async def insert_member(
    connection: Connection,
    *,
    account_id: uuid.UUID,
    organisation_id: uuid.UUID,
    role: str,
    invited_by: uuid.UUID | None,
) -> None:
    await connection.execute(
        """INSERT INTO organisation_member (account_id, organisation_id, role, invited_by)
           VALUES ($1, $2, $3, $4)""",
        account_id,
        organisation_id,
        role,
        invited_by,
    )


async def update_role(
    connection: Connection, *, account_id: uuid.UUID, organisation_id: uuid.UUID, role: str
) -> bool:
    result: str = await connection.execute(
        """UPDATE organisation_member SET role = $3
           WHERE account_id = $1 AND organisation_id = $2""",
        account_id,
        organisation_id,
        role,
    )
    return result.endswith(" 1")


async def delete_member(
    connection: Connection, *, account_id: uuid.UUID, organisation_id: uuid.UUID
) -> bool:
    result: str = await connection.execute(
        "DELETE FROM organisation_member WHERE account_id = $1 AND organisation_id = $2",
        account_id,
        organisation_id,
    )
    return result.endswith(" 1")
