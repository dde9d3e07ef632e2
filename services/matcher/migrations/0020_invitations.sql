-- Invitations (one per call and citizen), the answers, ratings of contributions, closing a
-- call, "not my expertise" feedback, and the transactional outbox the notification worker
-- sends from. No names or emails are stored here: the worker asks profiles at send time.

CREATE TABLE invitation (
    id uuid NOT NULL,
    call_id uuid NOT NULL,
    ref text NOT NULL,
    citizen_id uuid NOT NULL,
    public_body_id uuid NOT NULL,
    -- 'expired' is not stored: a pending invitation past its call's deadline reads as expired.
    status text NOT NULL DEFAULT 'pending',
    message text,
    hours_offered double precision,
    decline_reason text,
    answered_at timestamptz,
    reminded_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT invitation_pkey PRIMARY KEY (id),
    CONSTRAINT invitation_call_citizen_unique UNIQUE (call_id, citizen_id),
    CONSTRAINT invitation_call_ref_unique UNIQUE (call_id, ref),
    CONSTRAINT invitation_call_match_fkey FOREIGN KEY (call_id, ref)
        REFERENCES call_match (call_id, ref) ON DELETE CASCADE,
    CONSTRAINT invitation_status_known
        CHECK (status IN ('pending', 'accepted', 'declined', 'withdrawn')),
    CONSTRAINT invitation_hours_offered_positive CHECK (hours_offered IS NULL OR hours_offered > 0),
    CONSTRAINT invitation_message_length CHECK (char_length(message) <= 2000)
);

CREATE INDEX invitation_citizen_created_idx ON invitation (citizen_id, created_at DESC, id DESC);
CREATE INDEX invitation_body_created_idx ON invitation (public_body_id, created_at);
CREATE INDEX invitation_pending_unreminded_idx ON invitation (call_id)
    WHERE status = 'pending' AND reminded_at IS NULL;

-- Idempotency-Key of POST /v1/calls/{id}/invitations: the first answer is replayed.
CREATE TABLE invitation_request (
    public_body_id uuid NOT NULL,
    idempotency_key text NOT NULL,
    call_id uuid NOT NULL,
    request_hash bytea NOT NULL,
    response jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT invitation_request_pkey PRIMARY KEY (public_body_id, idempotency_key)
);

-- One rating per contribution (accepted invitation) per body; the rating itself lives in the
-- profiles ratings ledger (contribution_id = invitation id).
CREATE TABLE contribution_rating (
    invitation_id uuid NOT NULL,
    public_body_id uuid NOT NULL,
    rating smallint NOT NULL,
    comment text,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT contribution_rating_pkey PRIMARY KEY (invitation_id, public_body_id),
    CONSTRAINT contribution_rating_invitation_fkey FOREIGN KEY (invitation_id)
        REFERENCES invitation (id) ON DELETE CASCADE,
    CONSTRAINT contribution_rating_range CHECK (rating BETWEEN 1 AND 5)
);

-- "You said, we did": a call's outcome when its body closed it.
CREATE TABLE call_outcome (
    call_id uuid NOT NULL,
    outcome text NOT NULL,
    closed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT call_outcome_pkey PRIMARY KEY (call_id),
    CONSTRAINT call_outcome_call_fkey FOREIGN KEY (call_id) REFERENCES call (id) ON DELETE CASCADE
);

-- A decline with reason not_my_expertise: the evidence texts shown as "why you" for that
-- invitation, damped for this citizen in later routing (see invitations/feedback.py).
CREATE TABLE evidence_feedback (
    invitation_id uuid NOT NULL,
    citizen_id uuid NOT NULL,
    evidence_text text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT evidence_feedback_pkey PRIMARY KEY (invitation_id, evidence_text),
    CONSTRAINT evidence_feedback_invitation_fkey FOREIGN KEY (invitation_id)
        REFERENCES invitation (id) ON DELETE CASCADE
);

CREATE INDEX evidence_feedback_citizen_idx ON evidence_feedback (citizen_id);

-- Webhook endpoint and signing secret per public body (Standard Webhooks).
CREATE TABLE webhook_endpoint (
    public_body_id uuid NOT NULL,
    url text NOT NULL,
    secret text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT webhook_endpoint_pkey PRIMARY KEY (public_body_id)
);

-- The transactional outbox. Rows are written in the transaction that causes them and sent by
-- `python -m convene_matcher.notifications.worker`. delivery_id is the idempotency key the
-- receiver sees (email Message-ID, webhook-id). recipient_id is a citizen id (email) or a
-- public body id (webhook); the payload holds no personal data.
CREATE TABLE notification (
    id bigint GENERATED ALWAYS AS IDENTITY,
    kind text NOT NULL,
    channel text NOT NULL,
    recipient_id uuid NOT NULL,
    payload jsonb NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    delivery_id uuid NOT NULL,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    sent_at timestamptz,
    CONSTRAINT notification_pkey PRIMARY KEY (id),
    CONSTRAINT notification_delivery_id_unique UNIQUE (delivery_id),
    CONSTRAINT notification_channel_known CHECK (channel IN ('email', 'webhook')),
    -- 'sending' is reserved for lease-based senders; this worker holds a row lock instead.
    CONSTRAINT notification_status_known
        CHECK (status IN ('pending', 'sending', 'sent', 'dead', 'dropped'))
);

CREATE INDEX notification_due_idx ON notification (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX notification_dead_idx ON notification (id) WHERE status = 'dead';

-- Every attempt: sent, failed (with the error), dead, dropped.
CREATE TABLE notification_delivery (
    id bigint GENERATED ALWAYS AS IDENTITY,
    notification_id bigint NOT NULL,
    attempt integer NOT NULL,
    outcome text NOT NULL,
    detail text,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT notification_delivery_pkey PRIMARY KEY (id),
    CONSTRAINT notification_delivery_notification_fkey FOREIGN KEY (notification_id)
        REFERENCES notification (id) ON DELETE CASCADE,
    CONSTRAINT notification_delivery_outcome_known
        CHECK (outcome IN ('sent', 'failed', 'dead', 'dropped'))
);

CREATE INDEX notification_delivery_notification_idx ON notification_delivery (notification_id);
