-- Identity owned by the gateway: accounts (citizens and admins), organisations, API keys.

CREATE TABLE account (
    id uuid CONSTRAINT account_pkey PRIMARY KEY,
    kind text NOT NULL CONSTRAINT account_kind_check CHECK (kind IN ('citizen', 'admin')),
    email text NOT NULL CONSTRAINT account_email_length_check
        CHECK (char_length(email) BETWEEN 3 AND 320),
    password_hash text NOT NULL,
    citizen_id uuid CONSTRAINT account_citizen_id_key UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Set once the citizen's record exists in profiles. A registration that failed half-way
    -- leaves an unprovisioned account that cannot log in and that a retry completes.
    provisioned_at timestamptz,
    disabled_at timestamptz,
    CONSTRAINT account_citizen_id_check CHECK ((kind = 'citizen') = (citizen_id IS NOT NULL))
);

-- Email addresses are unique regardless of case.
CREATE UNIQUE INDEX account_email_lower_key ON account (lower(email));

CREATE TABLE organisation (
    id uuid CONSTRAINT organisation_pkey PRIMARY KEY,
    name text NOT NULL CONSTRAINT organisation_name_length_check
        CHECK (char_length(name) BETWEEN 1 AND 200),
    kind text NOT NULL CONSTRAINT organisation_kind_check
        CHECK (kind IN ('council', 'nhs', 'department', 'committee', 'other')),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX organisation_name_lower_key ON organisation (lower(name));
CREATE INDEX organisation_created_at_id_idx ON organisation (created_at, id);

CREATE TABLE api_key (
    id uuid CONSTRAINT api_key_pkey PRIMARY KEY,
    organisation_id uuid NOT NULL CONSTRAINT api_key_organisation_id_fkey
        REFERENCES organisation (id) ON DELETE CASCADE,
    name text NOT NULL DEFAULT '' CONSTRAINT api_key_name_length_check
        CHECK (char_length(name) <= 200),
    -- The public part of the key (cvk_<prefix>_<secret>), used to find the row.
    lookup_prefix text NOT NULL CONSTRAINT api_key_lookup_prefix_key UNIQUE,
    -- sha256 of the whole key: the secret part has 256 bits of entropy, so a slow hash
    -- would add nothing but latency to every request.
    key_hash bytea NOT NULL,
    scopes text[] NOT NULL CONSTRAINT api_key_scopes_check CHECK (cardinality(scopes) > 0),
    created_by uuid CONSTRAINT api_key_created_by_fkey
        REFERENCES account (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    last_used_at timestamptz
);

CREATE INDEX api_key_organisation_id_idx ON api_key (organisation_id, created_at);
