-- Contributions as evidence (issue 12): a rated contribution's text in the citizen's own
-- words (its answers and comment, sent by the matcher when a body rates it), whether it came
-- from a confidential or restricted call (then it counts for matching but is never shown to a
-- body), and the citizen's consent to have their contributions used as evidence.
ALTER TABLE rating ADD COLUMN contribution_text text
    CONSTRAINT rating_contribution_text_length CHECK (char_length(contribution_text) <= 120000);
ALTER TABLE rating ADD COLUMN confidential boolean NOT NULL DEFAULT false;
ALTER TABLE citizen ADD COLUMN consent_contributions_as_evidence boolean NOT NULL DEFAULT true;
