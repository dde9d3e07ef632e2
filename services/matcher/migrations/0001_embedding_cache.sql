-- Vectors of distinct normalised texts, per model: a label shared by thousands of citizens
-- is embedded once, across restarts too. The key is a SHA-256 digest of the normalised
-- text, so the table holds no text (nothing personal to erase) and keys stay short.
CREATE TABLE embedding_cache (
    model text NOT NULL,
    text_key bytea NOT NULL,
    dimension integer NOT NULL,
    vector bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT embedding_cache_pkey PRIMARY KEY (model, text_key),
    CONSTRAINT embedding_cache_vector_size CHECK (octet_length(vector) = dimension * 4)
);
