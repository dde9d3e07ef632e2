-- Rate-limit buckets shared by every gateway replica (ratelimit/repository.py). One row per
-- bucket and key, kept as GCRA: `tat` is the bucket's theoretical arrival time (a request is
-- allowed while tat + interval <= now + tolerance). A row whose tat has passed is a full
-- bucket, so rows older than now are deleted at leisure. Keys are hashes, never raw addresses
-- or emails. UNLOGGED: after a crash the buckets start full, which is what a restart does
-- anyway, and no WAL is written on the hot path. fillfactor leaves room for HOT updates.
CREATE UNLOGGED TABLE rate_limit_bucket (
    bucket text NOT NULL,
    key text NOT NULL,
    tat timestamptz NOT NULL,
    interval_seconds double precision NOT NULL,
    tolerance_seconds double precision NOT NULL,
    allowed boolean NOT NULL,
    CONSTRAINT rate_limit_bucket_pkey PRIMARY KEY (bucket, key)
) WITH (fillfactor = 70);
