-- TOTP second factor (RFC 6238) and one-time recovery codes. The TOTP secret must be read
-- to check a code, so it is stored as given (the gateway's database is the secret store);
-- recovery codes are stored as sha256 (each has 80 random bits; used once).
CREATE TABLE account_totp (
    account_id uuid CONSTRAINT account_totp_pkey PRIMARY KEY
        CONSTRAINT account_totp_account_id_fkey REFERENCES account (id) ON DELETE CASCADE,
    secret text NOT NULL CONSTRAINT account_totp_secret_length_check
        CHECK (char_length(secret) BETWEEN 16 AND 128),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Enrolment is complete once a first code was checked.
    confirmed_at timestamptz,
    -- The time step of the last accepted code: a code works once (no replay within 30 s).
    last_step bigint NOT NULL DEFAULT 0
);

CREATE TABLE recovery_code (
    account_id uuid NOT NULL CONSTRAINT recovery_code_account_id_fkey
        REFERENCES account (id) ON DELETE CASCADE,
    code_hash bytea NOT NULL,
    used_at timestamptz,
    CONSTRAINT recovery_code_pkey PRIMARY KEY (account_id, code_hash)
);

-- Whether the sign-in passed the second factor (an admin session without it may only
-- enrol one).
ALTER TABLE auth_session ADD COLUMN second_factor boolean NOT NULL DEFAULT false;
