"""argon2id password hashing, always off the event loop and bounded in concurrency."""

from __future__ import annotations

import secrets
from functools import partial

import anyio
import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class PasswordHasher:
    """Hashes and verifies in worker threads; at most `concurrency` hashes run at once.

    A dummy hash made with the same parameters lets a login for an unknown email cost what a
    login with a wrong password costs, so timing does not reveal which emails exist.
    """

    def __init__(
        self, *, time_cost: int, memory_cost_kib: int, parallelism: int, concurrency: int
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism
        )
        self._limiter = anyio.CapacityLimiter(concurrency)
        self._dummy_hash: str | None = None

    def hash_sync(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify_sync(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(
            partial(self.hash_sync, password), limiter=self._limiter
        )

    async def verify(self, password_hash: str, password: str) -> bool:
        return await anyio.to_thread.run_sync(
            partial(self.verify_sync, password_hash, password), limiter=self._limiter
        )

    async def prepare(self) -> None:
        """Makes the dummy hash (called in the lifespan, so no login pays for it)."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_urlsafe(16))

    async def verify_dummy(self, password: str) -> None:
        """Spends the time of one verification and always fails."""
        await self.prepare()
        assert self._dummy_hash is not None
        await self.verify(self._dummy_hash, password)
