"""The per-process credential cache: bounded, short-lived, and never resurrecting an entry
that an erasure or revocation evicted (tests through HTTP: test_auth, test_citizens)."""

from __future__ import annotations

from convene_gateway.auth.cache import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_lives_for_the_ttl_only() -> None:
    clock = Clock()
    cache: TtlCache[str, int] = TtlCache(ttl_seconds=5, max_entries=10, clock=clock)
    cache.put("a", 1, generation=cache.generation())
    clock.now += 4.9
    assert cache.get("a") == 1
    clock.now += 0.1
    assert cache.get("a") is None
    assert len(cache) == 0


def test_the_oldest_entry_goes_when_full() -> None:
    cache: TtlCache[str, int] = TtlCache(ttl_seconds=5, max_entries=2, clock=Clock())
    for number, key in enumerate("abc"):
        cache.put(key, number, generation=cache.generation())
    assert len(cache) == 2
    assert cache.get("a") is None
    assert (cache.get("b"), cache.get("c")) == (1, 2)


def test_a_lookup_that_began_before_an_eviction_is_not_cached() -> None:
    cache: TtlCache[str, int] = TtlCache(ttl_seconds=5, max_entries=10, clock=Clock())
    generation = cache.generation()  # a request reads the account: still live
    cache.evict("a")  # meanwhile the account is erased
    cache.put("a", 1, generation=generation)
    assert cache.get("a") is None
    cache.put("a", 1, generation=cache.generation())
    cache.evict("a")
    assert cache.get("a") is None


def test_a_ttl_of_zero_caches_nothing() -> None:
    cache: TtlCache[str, int] = TtlCache(ttl_seconds=0, max_entries=10, clock=Clock())
    cache.put("a", 1, generation=cache.generation())
    assert cache.get("a") is None
