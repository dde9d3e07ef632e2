"""The change-feed consumer: a background task started in the lifespan.

It asks profiles for changes after the store's seq, applies each page through
``EvidenceService.apply_changes`` (idempotent by seq), snapshots index + store every
``snapshot_every_changes`` changes or ``snapshot_every_seconds`` (and soon after an erasure,
so erased data leaves the disk too), and backs off exponentially while profiles fails.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
import httpx
from pydantic import ValidationError

from convene_common.service_client import DownstreamError, DownstreamProblemError
from convene_matcher.citizens.schemas import Change
from convene_matcher.clients.profiles import ProfilesClient
from convene_matcher.config import MatcherSettings
from convene_matcher.index.service import ApplyResult, EvidenceService

logger = logging.getLogger("convene.matcher.feed")
# Failures worth retrying the whole page for (profiles, network, database, disk).
_TRANSIENT = (
    DownstreamError,
    DownstreamProblemError,
    httpx.HTTPError,
    asyncpg.PostgresError,
    OSError,
)


@dataclass
class FeedState:
    head_seq: int | None = None
    pages: int = 0
    changes_applied: int = 0
    consecutive_errors: int = 0
    last_error: str | None = None
    last_success_at: float | None = None
    skipped_changes: int = 0  # poison changes skipped (each logged with its seq)
    # Wall time the index last reflected the head profiles reported (feed lag in seconds).
    caught_up_at: float | None = None


def feed_readiness(feed: FeedConsumer | None, *, max_lag: int) -> str:
    """ "ok" once the feed was read and at most ``max_lag`` changes are not applied."""
    if feed is None or feed.lag is None:
        return "catching up: not read yet"
    if feed.lag > max_lag:
        return f"catching up: {feed.lag} changes behind"
    return "ok"


class FeedConsumer:
    def __init__(
        self,
        *,
        evidence: EvidenceService,
        client: ProfilesClient,
        settings: MatcherSettings,
    ) -> None:
        self.evidence = evidence
        self.client = client
        self.settings = settings
        self.state = FeedState()
        self._started_at = time.time()

    @property
    def lag(self) -> int | None:
        if self.state.head_seq is None:
            return None
        return max(0, self.state.head_seq - self.evidence.seq)

    @property
    def lag_seconds(self) -> float:
        """0 while caught up; otherwise seconds since it last was (or since start)."""
        if self.lag == 0:
            return 0.0
        return time.time() - (self.state.caught_up_at or self._started_at)

    async def poll_once(self, *, wait_seconds: float = 0) -> ApplyResult:
        """Fetches and applies one page; raises on feed errors."""
        page = await self.client.fetch_changes(
            after=self.evidence.seq, limit=self.settings.feed_page_size, wait_seconds=wait_seconds
        )
        try:
            result = await self.evidence.apply_changes(page.items)
        except _TRANSIENT:
            raise
        except Exception:
            logger.exception("change feed page failed; applying its changes one at a time")
            result = await self._apply_one_at_a_time(page.items)
        if page.unparseable_seqs:
            await self.evidence.skip_change(max(page.unparseable_seqs))
            self.state.skipped_changes += len(page.unparseable_seqs)
        head = page.head_seq if page.head_seq is not None else page.last_seq
        self.state.head_seq = max(head or 0, self.evidence.seq)
        self.state.pages += 1
        self.state.changes_applied += result.applied
        self.state.consecutive_errors = 0
        self.state.last_error = None
        self.state.last_success_at = time.time()
        if self.state.head_seq <= self.evidence.seq:
            self.state.caught_up_at = self.state.last_success_at
        return result

    async def _apply_one_at_a_time(self, changes: Sequence[Change]) -> ApplyResult:
        """A page that failed for a reason other than a transient one: each change alone, so
        one poison change is skipped (logged with its seq) instead of stalling the feed."""
        total = ApplyResult(0, 0, 0, 0, 0)
        for change in sorted(changes, key=lambda c: c.seq):
            try:
                one = await self.evidence.apply_changes([change])
            except _TRANSIENT:
                raise
            except Exception:
                logger.exception(
                    "change skipped: it cannot be applied",
                    extra={"seq": change.seq, "kind": change.kind},
                )
                await self.evidence.skip_change(change.seq)
                self.state.skipped_changes += 1
                one = ApplyResult(1, 0, 0, 0, 0)
            total = ApplyResult(
                total.applied + one.applied,
                total.skipped + one.skipped,
                total.added_vectors + one.added_vectors,
                total.removed_vectors + one.removed_vectors,
                total.erased + one.erased,
            )
        return total

    async def catch_up(self) -> int:
        """Applies pages until profiles has nothing newer; returns changes applied."""
        applied = 0
        while True:
            result = await self.poll_once()
            applied += result.applied
            await self.maybe_snapshot()
            if result.applied == 0 and result.skipped == 0:
                return applied

    async def maybe_snapshot(self) -> None:
        evidence = self.evidence
        due_by_count = evidence.changes_since_snapshot >= self.settings.snapshot_every_changes
        due_by_time = evidence.changes_since_snapshot > 0 and (
            time.monotonic() - evidence.last_snapshot_at >= self.settings.snapshot_every_seconds
        )
        if due_by_count or due_by_time or evidence.erasures_since_snapshot > 0:
            await evidence.save_snapshot()

    async def run(self) -> None:
        """Tails the feed until cancelled."""
        while True:
            try:
                result = await self.poll_once(wait_seconds=self.settings.feed_wait_seconds)
                await self.maybe_snapshot()
            except asyncio.CancelledError:
                raise
            except (*_TRANSIENT, ValidationError) as exc:
                await self._back_off(exc)
                continue
            except Exception as exc:  # a bug must not stop the feed silently: log, retry
                logger.exception("change feed apply failed")
                await self._back_off(exc)
                continue
            if result.applied == 0:
                # Caught up (profiles already long-polled wait_seconds): short pause.
                await asyncio.sleep(self.settings.feed_poll_seconds)

    async def _back_off(self, exc: Exception) -> None:
        backoff = self.settings.feed_poll_seconds or 0.5
        self.state.consecutive_errors += 1
        # The client's problem carries the transport error that caused it (ConnectError...).
        cause = exc.__cause__ if isinstance(exc, DownstreamError) and exc.__cause__ else exc
        self.state.last_error = type(cause).__name__
        status = exc.status if isinstance(exc, (DownstreamError, DownstreamProblemError)) else None
        delay = min(
            self.settings.feed_backoff_max_seconds,
            backoff * 2 ** min(self.state.consecutive_errors - 1, 10),
        )
        logger.warning(
            "change feed unavailable",
            extra={"error": type(cause).__name__, "status": status, "retry_in_s": delay},
        )
        await asyncio.sleep(delay)
