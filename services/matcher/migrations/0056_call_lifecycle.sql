-- Who created a call (account:<id> or api_key:<id>, set by the gateway), calls that are
-- cancelled, edits while open, and the last match kept so it can be read without routing.
ALTER TABLE call ADD COLUMN created_by text
    CONSTRAINT call_created_by_length_check CHECK (char_length(created_by) <= 100);
ALTER TABLE call ADD COLUMN updated_at timestamptz;
ALTER TABLE call ADD COLUMN cancelled_at timestamptz;
ALTER TABLE call ADD COLUMN cancel_reason text
    CONSTRAINT call_cancel_reason_length_check CHECK (char_length(cancel_reason) <= 2000);
ALTER TABLE call DROP CONSTRAINT call_status_known;
ALTER TABLE call ADD CONSTRAINT call_status_known
    CHECK (status IN ('open', 'closed', 'cancelled'));

CREATE INDEX call_body_status_created_idx ON call (public_body_id, status, created_at DESC, id DESC);

CREATE TABLE call_last_match (
    call_id uuid CONSTRAINT call_last_match_pkey PRIMARY KEY
        CONSTRAINT call_last_match_call_fkey REFERENCES call (id) ON DELETE CASCADE,
    result jsonb NOT NULL,
    matched_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
