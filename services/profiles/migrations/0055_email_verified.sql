-- Whether the citizen's email address is verified (the gateway sets it). An unverified
-- citizen can build a profile but is not matched or invited: the change feed's snapshot
-- carries consent AND verified. Citizens that exist before this migration count as verified.
ALTER TABLE citizen ADD COLUMN email_verified boolean NOT NULL DEFAULT true;
