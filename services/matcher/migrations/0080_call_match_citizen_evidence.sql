-- "Why you" as the citizen sees it: the same evidence as the body's explanation, except that
-- items the citizen marked private are shown in full (marked private) instead of "private
-- evidence". Only the citizen's own invitation view reads it; NULL for matches made before.
ALTER TABLE call_match ADD COLUMN citizen_evidence jsonb;
