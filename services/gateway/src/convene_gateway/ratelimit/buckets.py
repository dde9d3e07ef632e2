"""Token buckets in memory. One process, one event loop: no awaits inside, so no locks."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from convene_gateway.ratelimit.config import Limit


@dataclass
class _Bucket:
    tokens: float
    updated: float


class BucketStore:
    """Buckets by key for one limit. `take` answers 0 when allowed, else the seconds to wait."""

    def __init__(
        self, limit: Limit, *, max_keys: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._capacity = float(limit.burst)
        self._rate = limit.per_minute / 60.0
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, key: str) -> int:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(tokens=self._capacity, updated=now)
            self._buckets[key] = bucket
            if len(self._buckets) > self._max_keys:
                # Forgetting a bucket refills it; only the least recently seen are dropped.
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(self._capacity, bucket.tokens + elapsed * self._rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0
        return max(1, math.ceil((1.0 - bucket.tokens) / self._rate))

    def __len__(self) -> int:
        return len(self._buckets)
