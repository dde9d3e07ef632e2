"""A short, bounded, per-process memory of live credentials.

Every authenticated request checks that its sign-in session is not revoked and its account
still exists and is enabled (or that its API key is not revoked). Under load that check was a
database round trip per request; this keeps its positive answers for `ttl_seconds` (a few
seconds) and at most `max_entries` of them.

Only "still live" is remembered; a missing, disabled or revoked credential is looked up every
time. Session revocation (logout, member removal, password change or reset, refresh-token reuse,
erasure) and key revocation evict the entry in this process at once, and a lookup that
began before an eviction cannot put its (older) answer back. Another replica forgets it when
the entry expires: a credential ended elsewhere can work there for at most ttl_seconds
(SECURITY.md). A ttl of 0 turns the cache off.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from convene_gateway.organisations.repository import ApiKeyRow

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(
        self,
        *,
        ttl_seconds: float,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}
        self._evictions = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= self._clock():
            del self._entries[key]
            return None
        return value

    def generation(self) -> int:
        """Take before reading the database; hand to put() with what was read."""
        return self._evictions

    def put(self, key: K, value: V, *, generation: int) -> None:
        """Remembers `value` unless anything was evicted since `generation` was taken: the
        database answer may predate that eviction."""
        if self._ttl <= 0 or generation != self._evictions:
            return
        self._entries.pop(key, None)
        while len(self._entries) >= self._max:
            # Insertion order is expiry order (one ttl for all): drop the oldest.
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (self._clock() + self._ttl, value)

    def evict(self, key: K) -> None:
        self._evictions += 1
        self._entries.pop(key, None)


@dataclass(frozen=True)
class LiveSession:
    """A sign-in session that was live when read: its account and that account's membership."""

    account_id: uuid.UUID
    kind: str
    citizen_id: uuid.UUID | None
    email_verified: bool
    organisation_id: uuid.UUID | None
    member_role: str | None


@dataclass
class CredentialCache:
    """Live sessions by session id; live API keys by lookup prefix (the secret is still
    checked against the key's hash on every request)."""

    sessions: TtlCache[uuid.UUID, LiveSession]
    api_keys: TtlCache[str, ApiKeyRow]

    @classmethod
    def create(cls, *, ttl_seconds: float, max_entries: int) -> CredentialCache:
        return cls(
            sessions=TtlCache(ttl_seconds=ttl_seconds, max_entries=max_entries),
            api_keys=TtlCache(ttl_seconds=ttl_seconds, max_entries=max_entries),
        )

    def forget_sessions(self, session_ids: list[uuid.UUID]) -> None:
        for session_id in session_ids:
            self.sessions.evict(session_id)
