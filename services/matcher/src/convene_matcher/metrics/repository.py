"""The counts the matcher's /metrics reads from its database (no personal data: counts only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Connection: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"


@dataclass(frozen=True)
class NotificationCount:
    kind: str
    channel: str
    status: str
    count: int


async def notification_counts(connection: Connection) -> list[NotificationCount]:
    rows = await connection.fetch(
        """SELECT kind, channel, status, count(*) AS count
           FROM notification GROUP BY kind, channel, status"""
    )
    return [
        NotificationCount(
            kind=row["kind"], channel=row["channel"], status=row["status"], count=row["count"]
        )
        for row in rows
    ]


async def invitation_count(connection: Connection) -> int:
    count: int = await connection.fetchval("SELECT count(*) FROM invitation")
    return count
