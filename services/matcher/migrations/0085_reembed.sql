-- Blue/green re-embedding (reembed/): a job embeds every distinct evidence text with a new
-- model version into embedding_cache rows of their own (the model column is the version:
-- name, weights digest, precision, text recipe), builds a new index beside the serving one
-- and switches the matcher to it at once. Rows of the old version stay until removed.
CREATE TABLE reembed_job (
    id uuid NOT NULL,
    status text NOT NULL DEFAULT 'queued',
    source_model text NOT NULL,
    target_model text NOT NULL,
    -- How to load the target model: {model_name, model_path, backend}.
    target_spec jsonb NOT NULL,
    texts_total integer NOT NULL DEFAULT 0,
    -- Texts whose target vectors already were in the cache (a resumed job embeds no more).
    texts_cached integer NOT NULL DEFAULT 0,
    texts_embedded integer NOT NULL DEFAULT 0,
    -- Texts added or dropped by the feed while the job ran, applied at the switch.
    texts_caught_up integer NOT NULL DEFAULT 0,
    embed_seconds double precision,
    error text,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    started_at timestamptz,
    switched_at timestamptz,
    finished_at timestamptz,
    CONSTRAINT reembed_job_pkey PRIMARY KEY (id),
    CONSTRAINT reembed_job_status_known
        CHECK (status IN ('queued', 'embedding', 'switching', 'succeeded', 'failed'))
);

-- At most one job runs at a time (across replicas sharing the database).
CREATE UNIQUE INDEX reembed_job_one_running
    ON reembed_job ((true)) WHERE status IN ('queued', 'embedding', 'switching');

-- The model a succeeded job switched to: start-up loads it rather than the settings' one,
-- so a restart never falls back to the old model (and never replays the feed to rebuild).
CREATE TABLE embedding_model_active (
    singleton boolean NOT NULL DEFAULT true,
    model_name text NOT NULL,
    model_path text NOT NULL,
    model_version text NOT NULL,
    job_id uuid NOT NULL,
    activated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT embedding_model_active_pkey PRIMARY KEY (singleton),
    CONSTRAINT embedding_model_active_singleton CHECK (singleton),
    CONSTRAINT embedding_model_active_job_fkey FOREIGN KEY (job_id) REFERENCES reembed_job (id)
);
