-- The append-only audit log: who (an account or an API key), acting for which organisation,
-- did what to which object, when, under which request id. Ids only, no personal data.
CREATE TABLE audit_entry (
    id bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT audit_entry_pkey PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_kind text NOT NULL CONSTRAINT audit_entry_actor_kind_check
        CHECK (actor_kind IN ('account', 'api_key', 'system')),
    actor_id uuid,
    organisation_id uuid,
    action text NOT NULL CONSTRAINT audit_entry_action_check
        CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    object_type text NOT NULL CONSTRAINT audit_entry_object_type_length_check
        CHECK (char_length(object_type) BETWEEN 1 AND 40),
    object_id text CONSTRAINT audit_entry_object_id_length_check
        CHECK (char_length(object_id) <= 100),
    request_id text CONSTRAINT audit_entry_request_id_length_check
        CHECK (char_length(request_id) <= 200),
    detail jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX audit_entry_organisation_idx ON audit_entry (organisation_id, id DESC);
CREATE INDEX audit_entry_action_idx ON audit_entry (action, id DESC);

-- Append-only for everyone, the owner (the gateway's own role, which runs this) included:
-- no UPDATE, DELETE or TRUNCATE privilege, and a trigger as a second lock should a grant
-- come back.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_entry FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_entry FROM CURRENT_USER;

CREATE FUNCTION audit_entry_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_entry is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_entry_append_only
    BEFORE UPDATE OR DELETE ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_is_append_only();
CREATE TRIGGER audit_entry_no_truncate
    BEFORE TRUNCATE ON audit_entry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_is_append_only();
