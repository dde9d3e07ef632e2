-- Past consultation responses brought in by admins or a body's managers (issue 12), and
-- answers a citizen uploads from a question-and-answer site.
--
-- import_job: one uploaded file, processed off the request with progress. The file is kept
-- until the job finishes (so a restart resumes it) and then dropped.
CREATE TABLE import_job (
    id uuid PRIMARY KEY,
    status text NOT NULL DEFAULT 'queued',
    format text NOT NULL,
    -- The organisation (gateway id) whose manager uploaded it; NULL: an admin.
    source_body_id uuid,
    requested_by text NOT NULL,
    file_content bytea,
    file_bytes integer NOT NULL,
    -- The file's line count at upload: progress is rows read against it.
    estimated_rows integer NOT NULL DEFAULT 1,
    rows integer NOT NULL DEFAULT 0,
    processed integer NOT NULL DEFAULT 0,
    imported integer NOT NULL DEFAULT 0,
    pending_confirmation integer NOT NULL DEFAULT 0,
    unclaimed integer NOT NULL DEFAULT 0,
    duplicates integer NOT NULL DEFAULT 0,
    rejected_count integer NOT NULL DEFAULT 0,
    -- [{line, reason}], the first rejected_kept of them (the count says how many in all).
    rejected jsonb NOT NULL DEFAULT '[]',
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    CONSTRAINT import_job_status_valid
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    CONSTRAINT import_job_format_valid CHECK (format IN ('jsonl', 'csv'))
);
CREATE INDEX import_job_unfinished ON import_job (created_at) WHERE status IN ('queued', 'running');

-- One past response. The respondent's email is never stored: only email_hash, an HMAC of the
-- normalised address under a secret setting. A row for an address no verified citizen holds
-- is 'unclaimed': citizen_id NULL and the texts only as ciphertext under a key derived from
-- the address itself (HMAC with another label), so it serves nobody until someone registers
-- and verifies that address; then it becomes 'pending' for them (decrypted, citizen_id set).
-- 'confirmed' rows are evidence (on the change feed); 'declined' rows keep no text, only the
-- key, so a re-import does not ask again.
CREATE TABLE past_response (
    id uuid PRIMARY KEY,
    source text NOT NULL,
    external_id text NOT NULL,
    source_body_id uuid,
    import_job_id uuid,
    email_hash text NOT NULL,
    citizen_id uuid,
    status text NOT NULL,
    responded_at timestamptz NOT NULL,
    question text,
    response_text text,
    sealed bytea,
    rating smallint,
    imported_at timestamptz NOT NULL DEFAULT now(),
    decided_at timestamptz,
    CONSTRAINT past_response_source_external_key UNIQUE (source, external_id),
    CONSTRAINT past_response_citizen_fk
        FOREIGN KEY (citizen_id) REFERENCES citizen (id) ON DELETE CASCADE,
    CONSTRAINT past_response_status_valid
        CHECK (status IN ('unclaimed', 'pending', 'confirmed', 'declined')),
    CONSTRAINT past_response_rating_range CHECK (rating IS NULL OR rating BETWEEN 1 AND 5),
    CONSTRAINT past_response_unclaimed_sealed CHECK (
        status <> 'unclaimed'
        OR (citizen_id IS NULL AND question IS NULL AND response_text IS NULL AND sealed IS NOT NULL)
    ),
    CONSTRAINT past_response_claimed_has_citizen
        CHECK (status = 'unclaimed' OR citizen_id IS NOT NULL)
);
CREATE INDEX past_response_email_hash_idx ON past_response (email_hash) WHERE status = 'unclaimed';
CREATE INDEX past_response_citizen_idx ON past_response (citizen_id, status, responded_at);
CREATE INDEX past_response_unclaimed_age_idx ON past_response (imported_at)
    WHERE status = 'unclaimed';

-- Answers the citizen uploaded from a question-and-answer site (a Stack Exchange-style
-- export of their own answers): experience evidence weighted by votes and acceptance.
CREATE TABLE qa_answer (
    id uuid PRIMARY KEY,
    citizen_id uuid NOT NULL,
    site text NOT NULL,
    -- The site's answer id when the file gives one, else a digest of title and text: the
    -- same answer uploaded twice is stored once.
    answer_key text NOT NULL,
    question_title text NOT NULL,
    answer_text text NOT NULL,
    answered_at timestamptz,
    score integer NOT NULL DEFAULT 0,
    accepted boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT qa_answer_citizen_fk
        FOREIGN KEY (citizen_id) REFERENCES citizen (id) ON DELETE CASCADE,
    CONSTRAINT qa_answer_key UNIQUE (citizen_id, site, answer_key),
    CONSTRAINT qa_answer_title_length CHECK (char_length(question_title) BETWEEN 1 AND 300),
    CONSTRAINT qa_answer_text_length CHECK (char_length(answer_text) BETWEEN 1 AND 10000)
);
CREATE INDEX qa_answer_citizen_idx ON qa_answer (citizen_id, created_at, id);
