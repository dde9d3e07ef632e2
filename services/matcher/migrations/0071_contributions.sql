-- Contributions (issue 12): an accepted invitee's answers to the call's questions, kept in
-- Convene so the body reads and rates what was written; "you said, we did" (the answers a
-- closing outcome cites); and declined citizens who asked to be told the outcome.
CREATE TABLE contribution (
    invitation_id uuid NOT NULL,
    -- [{"question": <one of the call's questions>, "text": <at most 10,000 characters>}]
    answers jsonb NOT NULL,
    comment text,
    submitted_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at timestamptz,
    CONSTRAINT contribution_pkey PRIMARY KEY (invitation_id),
    CONSTRAINT contribution_invitation_fkey FOREIGN KEY (invitation_id)
        REFERENCES invitation (id) ON DELETE CASCADE,
    CONSTRAINT contribution_answers_array CHECK (jsonb_typeof(answers) = 'array'),
    CONSTRAINT contribution_comment_length CHECK (char_length(comment) <= 10000)
);

-- The contributions a closing outcome cites: [{"ref": ..., "question": ... | null}]
-- (question null: the whole contribution).
ALTER TABLE call_outcome ADD COLUMN cited jsonb NOT NULL DEFAULT '[]'::jsonb;

-- A citizen who declined asked to be told the outcome; the close sends it to them too.
ALTER TABLE invitation ADD COLUMN follow_outcome boolean NOT NULL DEFAULT false;
