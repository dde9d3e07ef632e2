-- Access needs accommodate instead of exclude (issue 9): a call lists what the body cannot
-- offer; only a citizen's need named here keeps them off its panel.
ALTER TABLE call ADD COLUMN access_not_offered text[] NOT NULL DEFAULT '{}';
