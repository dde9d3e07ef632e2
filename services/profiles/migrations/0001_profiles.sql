-- Citizens' profiles, their evidence of expertise, ratings, and the change-feed outbox.

CREATE TABLE citizen (
    id uuid PRIMARY KEY,
    email text NOT NULL,
    display_name text NOT NULL,
    place_authority_code text,
    place_postcode_area text,
    place_lat double precision,
    place_lon double precision,
    languages text[] NOT NULL DEFAULT '{}',
    access_needs text[] NOT NULL DEFAULT '{}',
    -- Matching is on by default (a registered citizen expects to be found); contact is off
    -- until the citizen says so: contact details only reach a body after an acceptance.
    consent_matching boolean NOT NULL DEFAULT true,
    consent_contact boolean NOT NULL DEFAULT false,
    max_invitations_per_month integer NOT NULL DEFAULT 4,
    hours_per_month integer NOT NULL DEFAULT 4,
    unavailable jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT citizen_lat_range CHECK (place_lat IS NULL OR place_lat BETWEEN -90 AND 90),
    CONSTRAINT citizen_lon_range CHECK (place_lon IS NULL OR place_lon BETWEEN -180 AND 180),
    CONSTRAINT citizen_max_invitations_non_negative CHECK (max_invitations_per_month >= 0),
    CONSTRAINT citizen_hours_non_negative CHECK (hours_per_month >= 0)
);
CREATE UNIQUE INDEX citizen_email_key ON citizen (lower(email));

CREATE TABLE stakeholder_role (
    slug text PRIMARY KEY,
    label text NOT NULL,
    description text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT stakeholder_role_slug_format CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$')
);

CREATE TABLE skill (
    id uuid PRIMARY KEY,
    citizen_id uuid NOT NULL,
    label text NOT NULL,
    level text NOT NULL,
    code text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT skill_citizen_fk FOREIGN KEY (citizen_id) REFERENCES citizen (id) ON DELETE CASCADE,
    CONSTRAINT skill_level_valid
        CHECK (level IN ('want_to_learn', 'can_explain', 'can_connect', 'can_do'))
);
CREATE INDEX skill_citizen_idx ON skill (citizen_id, created_at, id);

CREATE TABLE citizen_role (
    id uuid PRIMARY KEY,
    citizen_id uuid NOT NULL,
    role_slug text,
    label text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT citizen_role_citizen_fk
        FOREIGN KEY (citizen_id) REFERENCES citizen (id) ON DELETE CASCADE,
    CONSTRAINT citizen_role_role_fk
        FOREIGN KEY (role_slug) REFERENCES stakeholder_role (slug) ON DELETE SET NULL
);
CREATE INDEX citizen_role_citizen_idx ON citizen_role (citizen_id, created_at, id);

CREATE TABLE affiliation (
    id uuid PRIMARY KEY,
    citizen_id uuid NOT NULL,
    organisation text NOT NULL,
    kind text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT affiliation_citizen_fk
        FOREIGN KEY (citizen_id) REFERENCES citizen (id) ON DELETE CASCADE,
    CONSTRAINT affiliation_kind_valid
        CHECK (kind IN ('employer', 'board', 'commercial_interest', 'other'))
);
CREATE INDEX affiliation_citizen_idx ON affiliation (citizen_id, created_at, id);

CREATE TABLE badge_issuer (
    id text PRIMARY KEY,
    name text NOT NULL,
    public_key_jwk jsonb,
    -- Credential/assertion ids the issuer has told us are revoked.
    revoked_credential_ids text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE badge (
    id uuid PRIMARY KEY,
    citizen_id uuid NOT NULL,
    format text NOT NULL,
    name text NOT NULL,
    description text NOT NULL DEFAULT '',
    criteria text,
    issuer_id text,
    issuer_name text,
    raw_credential jsonb NOT NULL,
    verified boolean NOT NULL,
    verification jsonb NOT NULL,
    checked_at timestamptz NOT NULL,
    issued_on timestamptz,
    expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT badge_citizen_fk FOREIGN KEY (citizen_id) REFERENCES citizen (id) ON DELETE CASCADE,
    CONSTRAINT badge_format_valid CHECK (format IN ('ob2_hosted', 'ob2_signed', 'ob3'))
);
CREATE INDEX badge_citizen_idx ON badge (citizen_id, created_at, id);

CREATE TABLE rating (
    id uuid PRIMARY KEY,
    citizen_id uuid NOT NULL,
    public_body_id uuid NOT NULL,
    contribution_id uuid NOT NULL,
    rating smallint NOT NULL,
    comment text,
    topic text,
    rated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rating_citizen_fk FOREIGN KEY (citizen_id) REFERENCES citizen (id) ON DELETE CASCADE,
    CONSTRAINT rating_value_range CHECK (rating BETWEEN 1 AND 5),
    CONSTRAINT rating_contribution_body_key UNIQUE (contribution_id, public_body_id)
);
CREATE INDEX rating_citizen_idx ON rating (citizen_id, rated_at, id);

-- The transactional outbox. seq comes from change_counter, whose single row every writer
-- updates in its own transaction: the row lock serialises writers until commit, so seqs
-- become visible in order and without gaps (a rolled-back writer gives its number back).
CREATE TABLE change_counter (
    id boolean PRIMARY KEY DEFAULT true,
    last_seq bigint NOT NULL DEFAULT 0,
    CONSTRAINT change_counter_single_row CHECK (id)
);
INSERT INTO change_counter (id, last_seq) VALUES (true, 0);

CREATE TABLE change (
    seq bigint PRIMARY KEY,
    citizen_id uuid NOT NULL,
    kind text NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    snapshot jsonb,
    CONSTRAINT change_kind_valid CHECK (kind IN ('upsert', 'erase'))
);
CREATE INDEX change_citizen_idx ON change (citizen_id, seq);

CREATE TABLE erasure_tombstone (
    id_hash text PRIMARY KEY,
    erased_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO stakeholder_role (slug, label, description) VALUES
    ('wheelchair-user', 'Wheelchair user', 'Gets around using a wheelchair'),
    ('cab-driver', 'Cab driver', 'Drives a taxi or private hire vehicle'),
    ('bus-driver', 'Bus driver', 'Drives a public bus'),
    ('cyclist', 'Cyclist', 'Cycles regularly for transport'),
    ('pedestrian', 'Pedestrian', 'Walks as a main way of getting around'),
    ('carer', 'Carer', 'Cares, unpaid, for a relative or friend'),
    ('social-worker', 'Social worker', 'Works in social work'),
    ('small-provider', 'Small provider', 'Runs a small service provider, e.g. a care agency'),
    ('parent-school-age', 'Parent of school-age children', 'Has children at school'),
    ('local-business-owner', 'Local business owner', 'Owns or runs a local business'),
    ('older-resident', 'Older resident', 'Resident aged 65 or over'),
    ('disabled-person', 'Disabled person', 'Lives with a disability'),
    ('nurse', 'Nurse', 'Works as a nurse'),
    ('teacher', 'Teacher', 'Works as a teacher'),
    ('tenant', 'Tenant', 'Rents their home'),
    ('young-person', 'Young person', 'Aged 16 to 24'),
    ('public-transport-user', 'Public transport user', 'Relies on buses, trams or trains'),
    ('delivery-rider', 'Delivery rider', 'Delivers by bike or moped');
