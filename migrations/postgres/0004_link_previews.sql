-- Link previews (extension, docs/protocol.md 8.13): what the server found at
-- a message's first link, cached per URL and shared by every message (and
-- every node) that links it.
CREATE TABLE link_previews (
    url           TEXT PRIMARY KEY,
    -- 1: the page gave a preview; 0: it gave nothing usable (kept so the
    -- URL is not fetched for every message until the entry expires).
    ok            BIGINT NOT NULL,
    title         TEXT,
    description   TEXT,
    site_name     TEXT,
    -- The page's picture as a small re-encoded image, stored like an upload.
    image_file_id TEXT REFERENCES files (file_id),
    fetched_at    BIGINT NOT NULL
);
-- Who may read a preview's picture, and which files the upload sweep keeps.
CREATE INDEX link_previews_by_image ON link_previews (image_file_id) WHERE image_file_id IS NOT NULL;

-- The link whose preview a message shows (its first link, once fetched).
ALTER TABLE messages ADD COLUMN preview_url TEXT;
CREATE INDEX messages_by_preview_url ON messages (preview_url) WHERE preview_url IS NOT NULL;
