"""Recording sensitive acts, in the transaction that does them, and reading them back."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from convene_common.cursors import InvalidCursorError, decode_cursor, encode_cursor
from convene_common.logging import current_request_id
from convene_gateway.audit import repository
from convene_gateway.audit.repository import AuditRow
from convene_gateway.auth.schemas import (
    AdminPrincipal,
    CitizenPrincipal,
    PublicBodyPrincipal,
    StaffPrincipal,
)
from convene_gateway.dependencies import Connection, Pool


@dataclass(frozen=True)
class Actor:
    """Who did it, and for which organisation."""

    kind: str  # account | api_key | system
    id: uuid.UUID | None
    organisation_id: uuid.UUID | None = None

    @classmethod
    def of(
        cls, principal: PublicBodyPrincipal | StaffPrincipal | AdminPrincipal | CitizenPrincipal
    ) -> Actor:
        if isinstance(principal, PublicBodyPrincipal):
            if principal.account_id is not None:
                return cls("account", principal.account_id, principal.organisation_id)
            return cls("api_key", principal.api_key_id, principal.organisation_id)
        if isinstance(principal, StaffPrincipal):
            return cls("account", principal.account_id, principal.organisation_id)
        return cls("account", principal.account_id, None)


SYSTEM = Actor("system", None)


async def record(
    connection: Connection,
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: uuid.UUID | str | None,
    organisation_id: uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One entry. `detail` holds ids and counts only, never names, emails or text."""
    await repository.insert(
        connection,
        actor_kind=actor.kind,
        actor_id=actor.id,
        organisation_id=organisation_id or actor.organisation_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        request_id=current_request_id(),
        detail=detail or {},
    )


async def record_now(
    *,
    pool: Pool,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: uuid.UUID | str | None,
    organisation_id: uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """For acts done elsewhere (a downstream service): recorded once it succeeded."""
    async with pool.acquire() as connection:
        await record(
            connection,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            organisation_id=organisation_id,
            detail=detail,
        )


async def list_entries(
    *,
    pool: Pool,
    organisation_id: uuid.UUID | None,
    action: str | None,
    actor_id: uuid.UUID | None,
    object_id: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[AuditRow], str | None]:
    before: int | None = None
    if cursor is not None:
        (value,) = decode_cursor(cursor, arity=1)
        try:
            before = int(value)
        except (TypeError, ValueError) as exc:
            raise InvalidCursorError("The cursor is malformed; use next_cursor as given.") from exc
        if not 0 < before < 2**63:
            raise InvalidCursorError("The cursor is malformed; use next_cursor as given.")
    async with pool.acquire() as connection:
        rows = await repository.list_entries(
            connection,
            organisation_id=organisation_id,
            action=action,
            actor_id=actor_id,
            object_id=object_id,
            before_id=before,
            limit=limit + 1,
        )
    next_cursor = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
    return rows[:limit], next_cursor
