"""Call rules: validation against the matcher's state, idempotent creation, reads.

Idempotency: the key is unique per public body. Creation is ``INSERT ... ON CONFLICT DO
NOTHING`` then a read of the winner, so 20 concurrent requests with one key create one call;
every replay with the same request (same SHA-256 of the canonical JSON) gets the same call, and
a reuse with another request is a 422 problem.

Perspective roles: any role is accepted (slug, label, alias or free text, compared
normalised, see ``routing.names``). A role nobody holds is reported in the match's ``unmet``
like any other shortfall: refusing it at creation told a body whether some citizen holds a
rare role.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg

from convene_common.cursors import InvalidCursorError, decode_cursor, encode_cursor
from convene_matcher.calls import repository
from convene_matcher.calls.errors import (
    CallValidationError,
    IdempotencyKeyError,
    IdempotencyKeyReusedError,
)
from convene_matcher.calls.schemas import CallCreate, CallPage, CallRead
from convene_matcher.errors import NotFoundError
from convene_matcher.routing.names import role_key

MAX_IDEMPOTENCY_KEY_LENGTH = 128


class RoleLookup(Protocol):
    """Whether any citizen holds a role (``CitizenArrays`` answers it from its role rows)."""

    def knows(self, role: str) -> bool: ...


def check_idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH or not all(" " <= ch <= "~" for ch in key):
        raise IdempotencyKeyError(
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters."
        )
    return key


def validate_call(body: CallCreate, *, roles: RoleLookup, now: datetime) -> None:
    if not body.title and not body.description:
        raise CallValidationError("title", "a call needs a title or a description")
    if body.deadline <= now:
        raise CallValidationError("deadline", "the deadline must be in the future")
    place = body.place
    if place is not None:
        has_point = place.lat is not None or place.lon is not None
        if place.radius_km is not None and not has_point:
            raise CallValidationError("place.radius_km", "a radius needs a place (lat and lon)")
        if has_point and (place.lat is None or place.lon is None):
            raise CallValidationError("place.lat", "give both lat and lon")
        if has_point and place.radius_km is None:
            raise CallValidationError("place.radius_km", "a point needs a radius_km")
        if not has_point and place.authority_code is None:
            raise CallValidationError("place", "give an authority_code or lat, lon, radius_km")
    seen: set[str] = set()
    for position, perspective in enumerate(body.perspectives):
        loc = f"perspectives.{position}"
        key = role_key(perspective.role)
        if key in seen:
            raise CallValidationError(f"{loc}.role", "each role may appear once")
        seen.add(key)
        if perspective.min > perspective.max:
            raise CallValidationError(f"{loc}.min", "min is greater than max")
        if perspective.min > body.panel_size:
            raise CallValidationError(f"{loc}.min", "min is greater than panel_size")
    if sum(p.min for p in body.perspectives) > body.panel_size:
        raise CallValidationError("perspectives", "the sum of mins exceeds panel_size")


def request_hash(body: CallCreate) -> bytes:
    # Who posts is not part of the request: another officer's replay is the same request.
    canonical = json.dumps(
        body.model_dump(mode="json", exclude={"created_by"}),
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).digest()


def to_read(row: asyncpg.Record) -> CallRead:
    data = dict(row)
    data.pop("idempotency_key")
    data.pop("request_hash")
    if data["hours"] is not None:
        data["hours"] = float(data["hours"])
    return CallRead.model_validate(data)


async def create_call(
    *,
    pool: asyncpg.Pool[Any],
    body: CallCreate,
    idempotency_key: str | None,
    roles: RoleLookup,
) -> CallRead:
    digest = request_hash(body)
    async with pool.acquire() as connection:
        if idempotency_key is not None:
            existing = await repository.get_by_idempotency_key(
                connection, public_body_id=body.public_body_id, idempotency_key=idempotency_key
            )
            if existing is not None:
                return _replay(existing, digest)
        validate_call(body, roles=roles, now=datetime.now(UTC))
        values: dict[str, Any] = body.model_dump(mode="json")
        values.update(
            public_body_id=body.public_body_id,
            deadline=body.deadline,
            idempotency_key=idempotency_key,
            request_hash=digest,
        )
        row = await repository.insert_call(connection, call_id=uuid.uuid4(), values=values)
        if row is None:
            # Lost a race on the same key: the winner has committed (ON CONFLICT waited).
            assert idempotency_key is not None
            existing = await repository.get_by_idempotency_key(
                connection, public_body_id=body.public_body_id, idempotency_key=idempotency_key
            )
            assert existing is not None
            return _replay(existing, digest)
    return to_read(row)


def _replay(row: asyncpg.Record, digest: bytes) -> CallRead:
    if bytes(row["request_hash"]) != digest:
        raise IdempotencyKeyReusedError(
            "This Idempotency-Key was used with a different request; use a new key."
        )
    return to_read(row)


async def get_call(
    *, pool: asyncpg.Pool[Any], call_id: uuid.UUID, public_body_id: uuid.UUID
) -> CallRead:
    async with pool.acquire() as connection:
        row = await repository.get_call(connection, call_id=call_id, public_body_id=public_body_id)
    if row is None:
        raise NotFoundError("No such call.")
    return to_read(row)


async def list_calls(
    *,
    pool: asyncpg.Pool[Any],
    public_body_id: uuid.UUID,
    limit: int,
    cursor: str | None,
    status: str | None = None,
    title_contains: str | None = None,
) -> CallPage:
    after: tuple[datetime, uuid.UUID] | None = None
    if cursor is not None:
        created_at, call_id = decode_cursor(cursor, arity=2)
        try:
            after = (datetime.fromisoformat(str(created_at)), uuid.UUID(str(call_id)))
        except ValueError as exc:
            raise InvalidCursorError("The cursor is malformed; use next_cursor as given.") from exc
    async with pool.acquire() as connection:
        rows = await repository.list_calls(
            connection,
            public_body_id=public_body_id,
            limit=limit + 1,
            after=after,
            status=status,
            title_contains=title_contains,
        )
    items = [to_read(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor([last.created_at.isoformat(), str(last.id)])
    return CallPage(items=items, next_cursor=next_cursor)
