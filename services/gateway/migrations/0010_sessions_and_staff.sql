-- Staff accounts, organisation members, sign-in sessions with rotating refresh tokens and
-- single-use emailed tokens (verification, password reset, staff invitation).

-- A staff account holds no citizen record; a citizen who is also staff keeps kind 'citizen'
-- and gains a membership row (one account, both hats).
ALTER TABLE account DROP CONSTRAINT account_kind_check;
ALTER TABLE account ADD CONSTRAINT account_kind_check
    CHECK (kind IN ('citizen', 'admin', 'staff'));
ALTER TABLE account ADD COLUMN display_name text NOT NULL DEFAULT ''
    CONSTRAINT account_display_name_length_check CHECK (char_length(display_name) <= 200);
-- Accounts that exist before this migration (and the demo citizen) count as verified.
ALTER TABLE account ADD COLUMN email_verified_at timestamptz;
UPDATE account SET email_verified_at = created_at;
-- A pending change of address: it takes effect once the new address is verified.
ALTER TABLE account ADD COLUMN pending_email text
    CONSTRAINT account_pending_email_length_check CHECK (char_length(pending_email) <= 320);

-- An account is a member of at most one organisation: its staff tokens act for that one.
CREATE TABLE organisation_member (
    account_id uuid CONSTRAINT organisation_member_pkey PRIMARY KEY
        CONSTRAINT organisation_member_account_id_fkey REFERENCES account (id) ON DELETE CASCADE,
    organisation_id uuid NOT NULL CONSTRAINT organisation_member_organisation_id_fkey
        REFERENCES organisation (id) ON DELETE CASCADE,
    role text NOT NULL CONSTRAINT organisation_member_role_check
        CHECK (role IN ('manager', 'officer')),
    invited_by uuid CONSTRAINT organisation_member_invited_by_fkey
        REFERENCES account (id) ON DELETE SET NULL,
    joined_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX organisation_member_organisation_idx
    ON organisation_member (organisation_id, joined_at, account_id);

-- One sign-in: one family of refresh tokens. Revoking the session ends its access tokens
-- (they carry its id) and every refresh token of the family.
CREATE TABLE auth_session (
    id uuid CONSTRAINT auth_session_pkey PRIMARY KEY,
    account_id uuid NOT NULL CONSTRAINT auth_session_account_id_fkey
        REFERENCES account (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    refreshed_at timestamptz,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    revoked_reason text CONSTRAINT auth_session_revoked_reason_length_check
        CHECK (char_length(revoked_reason) <= 40)
);

CREATE INDEX auth_session_account_idx ON auth_session (account_id) WHERE revoked_at IS NULL;

-- sha256 of each refresh token ever issued; used_at marks the one-time use (rotation). A
-- second use of a used token revokes the session (theft detection).
CREATE TABLE refresh_token (
    token_hash bytea CONSTRAINT refresh_token_pkey PRIMARY KEY,
    session_id uuid NOT NULL CONSTRAINT refresh_token_session_id_fkey
        REFERENCES auth_session (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at timestamptz
);

CREATE INDEX refresh_token_session_idx ON refresh_token (session_id);

-- Emailed single-use tokens, stored as sha256 (the secret has 256 bits of entropy).
CREATE TABLE account_token (
    token_hash bytea CONSTRAINT account_token_pkey PRIMARY KEY,
    purpose text NOT NULL CONSTRAINT account_token_purpose_check
        CHECK (purpose IN ('verify_email', 'reset_password', 'join')),
    account_id uuid CONSTRAINT account_token_account_id_fkey
        REFERENCES account (id) ON DELETE CASCADE,
    email text NOT NULL CONSTRAINT account_token_email_length_check
        CHECK (char_length(email) BETWEEN 3 AND 320),
    organisation_id uuid CONSTRAINT account_token_organisation_id_fkey
        REFERENCES organisation (id) ON DELETE CASCADE,
    member_role text CONSTRAINT account_token_member_role_check
        CHECK (member_role IN ('manager', 'officer')),
    created_by uuid CONSTRAINT account_token_created_by_fkey
        REFERENCES account (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    CONSTRAINT account_token_join_check
        CHECK ((purpose = 'join') = (organisation_id IS NOT NULL AND member_role IS NOT NULL)),
    CONSTRAINT account_token_account_check CHECK (purpose = 'join' OR account_id IS NOT NULL)
);

CREATE INDEX account_token_account_idx ON account_token (account_id, purpose, created_at);
