"""Scrape-time metric sources of the matcher, read from app.state and the database.

Families (all prefixed ``convene_``): feed_head_sequence, feed_applied_sequence,
feed_lag_sequences, feed_lag_seconds, feed_consecutive_errors, index_vectors{kind},
index_tombstones{kind}, embedding_queue_length, embedding_cache_entries, outbox_depth{channel},
notification_dead_letters{channel}, notifications{kind,channel,status},
invitations_sent_total.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import FastAPI
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from convene_common.observability import ServiceMetrics, gauge
from convene_matcher.feed.consumer import FeedConsumer
from convene_matcher.index.service import EvidenceService
from convene_matcher.metrics import repository

CHANNELS = ("email", "webhook")


def install_matcher_metrics(app: FastAPI) -> None:
    metrics: ServiceMetrics = app.state.metrics
    state = app.state

    async def feed_and_index() -> Iterable[Metric]:
        feed: FeedConsumer | None = getattr(state, "feed", None)
        evidence: EvidenceService | None = getattr(state, "evidence", None)
        families: list[Metric] = []
        if evidence is not None:
            index = evidence.index
            families += [
                gauge(
                    "convene_index_vectors",
                    "Live vectors in the evidence index, by index kind (exact or hnsw).",
                    index.count,
                    kind=index.kind,
                ),
                gauge(
                    "convene_index_tombstones",
                    "Removed vectors still held by the index until its next rebuild.",
                    index.tombstones,
                    kind=index.kind,
                ),
                gauge(
                    "convene_embedding_queue_length",
                    "Embedding requests waiting for or holding the model.",
                    evidence.embedder.queue_length,
                ),
                gauge(
                    "convene_embedding_cache_entries",
                    "Vectors held in the embedder's memory cache.",
                    evidence.embedder.memory_entries,
                ),
                gauge(
                    "convene_feed_applied_sequence",
                    "The last change-feed sequence applied to the index.",
                    evidence.seq,
                ),
            ]
        if feed is not None:
            families += [
                gauge(
                    "convene_feed_head_sequence",
                    "The newest change-feed sequence profiles reported.",
                    feed.state.head_seq,
                ),
                gauge(
                    "convene_feed_lag_sequences",
                    "Changes profiles holds that the index does not reflect yet.",
                    feed.lag,
                ),
                gauge(
                    "convene_feed_lag_seconds",
                    "Seconds since the index last reflected every change profiles reported.",
                    feed.lag_seconds,
                ),
                gauge(
                    "convene_feed_consecutive_errors",
                    "Feed polls failed in a row (0 when the last one succeeded).",
                    feed.state.consecutive_errors,
                ),
            ]
        return families

    async def outbox() -> Iterable[Metric]:
        pool = getattr(state, "pool", None)
        if pool is None:
            return []
        async with pool.acquire() as connection:
            counts = await repository.notification_counts(connection)
            invitations = await repository.invitation_count(connection)
        by_status = GaugeMetricFamily(
            "convene_notifications",
            "Outbox rows by kind, channel and status.",
            labels=["kind", "channel", "status"],
        )
        pending = dict.fromkeys(CHANNELS, 0)
        dead = dict.fromkeys(CHANNELS, 0)
        for row in counts:
            by_status.add_metric([row.kind, row.channel, row.status], row.count)
            if row.status == "pending":
                pending[row.channel] = pending.get(row.channel, 0) + row.count
            elif row.status == "dead":
                dead[row.channel] = dead.get(row.channel, 0) + row.count
        depth = GaugeMetricFamily(
            "convene_outbox_depth", "Notifications waiting to be sent.", labels=["channel"]
        )
        letters = GaugeMetricFamily(
            "convene_notification_dead_letters",
            "Notifications given up after their last attempt.",
            labels=["channel"],
        )
        for channel in pending:
            depth.add_metric([channel], pending[channel])
            letters.add_metric([channel], dead[channel])
        sent = CounterMetricFamily(
            "convene_invitations_sent",
            "Invitations sent to citizens (rows in the invitation table; erasure removes some).",
        )
        sent.add_metric([], invitations)
        return [by_status, depth, letters, sent]

    metrics.add_source("feed_and_index", feed_and_index)
    metrics.add_source("outbox", outbox)
