"""Per-account brute-force brakes for sign-in and second-factor codes (per process; the
per-address limits are in the rate-limit middleware)."""

from __future__ import annotations

import hashlib
import uuid

from convene_gateway.errors import TooManyAttemptsError
from convene_gateway.ratelimit.buckets import BucketStore
from convene_gateway.ratelimit.config import RateLimits


class SignInThrottle:
    def __init__(self, limits: RateLimits) -> None:
        self._enabled = limits.enabled
        self._logins = BucketStore(limits.login_per_account, max_keys=limits.max_tracked_keys)
        self._codes = BucketStore(limits.totp_per_account, max_keys=limits.max_tracked_keys)

    def login(self, email: str) -> None:
        """Keyed by the email as given (known or not), so the answer tells nothing."""
        if not self._enabled:
            return
        key = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        if wait := self._logins.take(key):
            raise TooManyAttemptsError(
                f"Too many sign-in attempts for this account; retry after {wait} seconds.",
                retry_after_seconds=wait,
            )

    def second_factor(self, account_id: uuid.UUID) -> None:
        if not self._enabled:
            return
        if wait := self._codes.take(str(account_id)):
            raise TooManyAttemptsError(
                f"Too many second-factor attempts; retry after {wait} seconds.",
                retry_after_seconds=wait,
            )
