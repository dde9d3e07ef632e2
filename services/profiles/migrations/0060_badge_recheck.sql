-- Revocation is re-checked after import: last_checked_at is when the badge's revocation
-- status was last confirmed with its issuer (import, then each periodic re-check);
-- revoked_at is when a re-check found it revoked (the badge is then verified=false).
ALTER TABLE badge ADD COLUMN last_checked_at timestamptz NOT NULL DEFAULT now();
UPDATE badge SET last_checked_at = checked_at;
ALTER TABLE badge ADD COLUMN revoked_at timestamptz;
CREATE INDEX badge_recheck_due ON badge (last_checked_at) WHERE verified AND revoked_at IS NULL;
