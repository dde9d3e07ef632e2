"""Per-account brute-force brakes for sign-in and second-factor codes, in the same buckets
as the rate limits (shared by every gateway replica; the per-address limits are in the
rate-limit middleware)."""

from __future__ import annotations

import hashlib
import uuid

from convene_gateway.errors import TooManyAttemptsError
from convene_gateway.ratelimit.config import RateLimits
from convene_gateway.ratelimit.limiter import RateLimiter, Take


class SignInThrottle:
    def __init__(self, limits: RateLimits, limiter: RateLimiter) -> None:
        self._limits = limits
        self._limiter = limiter

    async def login(self, email: str) -> None:
        """Keyed by the email as given (known or not), so the answer tells nothing."""
        if not self._limits.enabled:
            return
        key = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        wait, _ = await self._limiter.take(
            [Take("login_per_account", key, self._limits.login_per_account)]
        )
        if wait:
            raise TooManyAttemptsError(
                f"Too many sign-in attempts for this account; retry after {wait} seconds.",
                retry_after_seconds=wait,
            )

    async def second_factor(self, account_id: uuid.UUID) -> None:
        if not self._limits.enabled:
            return
        wait, _ = await self._limiter.take(
            [Take("totp_per_account", str(account_id), self._limits.totp_per_account)]
        )
        if wait:
            raise TooManyAttemptsError(
                f"Too many second-factor attempts; retry after {wait} seconds.",
                retry_after_seconds=wait,
            )
