-- Routing batches: panels for many calls solved together under the citizens' monthly caps
-- (admins, or a public body for its own open calls). Stored so the result is readable later;
-- nothing here sends an invitation. Members are kept as the call's pseudonymous refs only
-- (HMAC of call and citizen), never citizen ids: an erased citizen's ref links to nobody.

CREATE TABLE routing_batch (
    id uuid NOT NULL,
    -- The body whose open calls were routed (a body's own batch); null for an admin's.
    public_body_id uuid,
    requested_by text NOT NULL,
    config_id integer,
    method text NOT NULL,
    optimal boolean NOT NULL,
    solve_ms double precision NOT NULL,
    candidates_ms double precision NOT NULL,
    sequential_ms double precision NOT NULL,
    total_score double precision NOT NULL,
    sequential_total_score double precision NOT NULL,
    seats integer NOT NULL,
    sequential_seats integer NOT NULL,
    unmet integer NOT NULL,
    sequential_unmet integer NOT NULL,
    cap_violations integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT routing_batch_pkey PRIMARY KEY (id),
    CONSTRAINT routing_batch_config_fkey FOREIGN KEY (config_id) REFERENCES matching_config (id),
    CONSTRAINT routing_batch_method_known
        CHECK (method IN ('flow', 'flow+cpsat', 'cpsat', 'sequential', 'empty'))
);

CREATE INDEX routing_batch_body_created_idx ON routing_batch (public_body_id, created_at DESC);

CREATE TABLE routing_batch_call (
    batch_id uuid NOT NULL,
    call_id uuid NOT NULL,
    position integer NOT NULL,
    panel_size integer NOT NULL,
    score double precision NOT NULL,
    sequential_score double precision NOT NULL,
    -- [{role, wanted, found}] for each role whose min the panel misses
    unmet jsonb NOT NULL,
    sequential_unmet jsonb NOT NULL,
    CONSTRAINT routing_batch_call_pkey PRIMARY KEY (batch_id, call_id),
    CONSTRAINT routing_batch_call_batch_fkey FOREIGN KEY (batch_id) REFERENCES routing_batch (id)
        ON DELETE CASCADE,
    CONSTRAINT routing_batch_call_call_fkey FOREIGN KEY (call_id) REFERENCES call (id)
        ON DELETE CASCADE
);

CREATE TABLE routing_batch_assignment (
    batch_id uuid NOT NULL,
    call_id uuid NOT NULL,
    ref text NOT NULL,
    position integer NOT NULL,
    score double precision NOT NULL,
    fills text[] NOT NULL DEFAULT '{}',
    CONSTRAINT routing_batch_assignment_pkey PRIMARY KEY (batch_id, call_id, ref),
    CONSTRAINT routing_batch_assignment_call_fkey FOREIGN KEY (batch_id, call_id)
        REFERENCES routing_batch_call (batch_id, call_id) ON DELETE CASCADE
);
