-- Account emails (verification, password reset, staff invitation, address change) that the
-- gateway hands to the outbox with an explicit address. The address and bodies are needed
-- only until the message is sent: the worker blanks them then (the bodies hold single-use
-- links). idempotency_key makes the gateway's retry of one email one message.
CREATE TABLE account_email (
    notification_id bigint CONSTRAINT account_email_pkey PRIMARY KEY
        CONSTRAINT account_email_notification_fkey REFERENCES notification (id) ON DELETE CASCADE,
    idempotency_key text NOT NULL CONSTRAINT account_email_idempotency_key_key UNIQUE
        CONSTRAINT account_email_idempotency_key_length_check
        CHECK (char_length(idempotency_key) BETWEEN 1 AND 200),
    email_kind text NOT NULL,
    to_address text NOT NULL,
    subject text NOT NULL,
    text_body text NOT NULL,
    html_body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
