-- Experience in the citizen's own words (issue 12): entries and a short bio.

ALTER TABLE citizen ADD COLUMN bio text NOT NULL DEFAULT '';
ALTER TABLE citizen ADD CONSTRAINT citizen_bio_length CHECK (char_length(bio) <= 1000);

CREATE TABLE experience_entry (
    id uuid PRIMARY KEY,
    citizen_id uuid NOT NULL,
    kind text NOT NULL,
    title text NOT NULL,
    description text NOT NULL DEFAULT '',
    started_on date,
    ended_on date,
    organisation text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT experience_entry_citizen_fk
        FOREIGN KEY (citizen_id) REFERENCES citizen (id) ON DELETE CASCADE,
    CONSTRAINT experience_entry_kind_valid CHECK (
        kind IN ('work', 'volunteering', 'lived_experience', 'study', 'campaign', 'other')
    ),
    CONSTRAINT experience_entry_title_length CHECK (char_length(title) BETWEEN 1 AND 200),
    CONSTRAINT experience_entry_description_length CHECK (char_length(description) <= 4000),
    CONSTRAINT experience_entry_organisation_length
        CHECK (organisation IS NULL OR char_length(organisation) <= 200),
    CONSTRAINT experience_entry_dates_ordered
        CHECK (started_on IS NULL OR ended_on IS NULL OR started_on <= ended_on)
);
-- "Use for matching but do not show to public bodies": the item still counts in routing.
ALTER TABLE skill ADD COLUMN visible_to_bodies boolean NOT NULL DEFAULT true;
ALTER TABLE citizen_role ADD COLUMN visible_to_bodies boolean NOT NULL DEFAULT true;
ALTER TABLE experience_entry ADD COLUMN visible_to_bodies boolean NOT NULL DEFAULT true;

CREATE INDEX experience_entry_citizen_idx ON experience_entry (citizen_id, created_at, id);
