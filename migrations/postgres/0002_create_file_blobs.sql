-- File bytes kept in the database (used when the server stores files in
-- PostgreSQL so every node sees them; SQLite deployments keep files on disk).
CREATE TABLE file_blobs (
    file_id TEXT NOT NULL REFERENCES files (file_id) ON DELETE CASCADE,
    -- 'original' or 'thumbnail'
    variant TEXT NOT NULL,
    bytes   BYTEA NOT NULL,
    PRIMARY KEY (file_id, variant)
);

CREATE INDEX files_by_created ON files (created_at);
