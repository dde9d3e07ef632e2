-- Calls for expertise posted by public bodies (through the gateway), their match results and
-- the exposure ledger routing reads for invitation caps and "usual suspects" damping.

CREATE TABLE call (
    id uuid NOT NULL,
    public_body_id uuid NOT NULL,
    public_body_name text NOT NULL,
    -- Idempotency: the gateway forwards the client's Idempotency-Key; the request hash
    -- (SHA-256 of the canonical request) tells a replay from a reuse with another body.
    idempotency_key text,
    request_hash bytea NOT NULL,
    title text NOT NULL,
    description text NOT NULL,
    questions jsonb NOT NULL,
    skills jsonb NOT NULL,
    perspectives jsonb NOT NULL,
    place jsonb,
    languages text[] NOT NULL,
    access_offered text[] NOT NULL,
    hours double precision,
    deadline timestamptz NOT NULL,
    panel_size integer NOT NULL,
    conflicts text[] NOT NULL,
    confidentiality text NOT NULL,
    status text NOT NULL DEFAULT 'open',
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT call_pkey PRIMARY KEY (id),
    CONSTRAINT call_idempotency_key_unique UNIQUE (public_body_id, idempotency_key),
    CONSTRAINT call_panel_size_range CHECK (panel_size BETWEEN 1 AND 500),
    CONSTRAINT call_status_known CHECK (status IN ('open', 'closed'))
);

-- Keyset pagination of a body's calls, newest first.
CREATE INDEX call_body_created_idx ON call (public_body_id, created_at DESC, id DESC);

-- One row per candidate a match returned: the pseudonymous ref resolves to the citizen here
-- only (invitations use it). Re-matching upserts rows; rows absent from the latest match
-- keep their ref (an invitation may already point at it) with latest = false.
CREATE TABLE call_match (
    call_id uuid NOT NULL,
    ref text NOT NULL,
    citizen_id uuid NOT NULL,
    score double precision NOT NULL,
    position integer,
    in_panel boolean NOT NULL DEFAULT false,
    fills text[] NOT NULL DEFAULT '{}',
    explanation jsonb NOT NULL,
    latest boolean NOT NULL DEFAULT true,
    matched_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT call_match_pkey PRIMARY KEY (call_id, ref),
    CONSTRAINT call_match_call_fkey FOREIGN KEY (call_id) REFERENCES call (id) ON DELETE CASCADE
);

CREATE INDEX call_match_citizen_idx ON call_match (citizen_id);

-- Every invitation sent, across all bodies (filled by the invitations work). Routing counts
-- this calendar month's rows against each citizen's monthly cap, and recent rows for
-- exposure damping.
CREATE TABLE exposure (
    id bigint GENERATED ALWAYS AS IDENTITY,
    citizen_id uuid NOT NULL,
    public_body_id uuid NOT NULL,
    call_id uuid,
    invited_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT exposure_pkey PRIMARY KEY (id)
);

CREATE INDEX exposure_citizen_invited_idx ON exposure (citizen_id, invited_at);
