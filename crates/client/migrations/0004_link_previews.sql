-- Link previews (server extension, docs/protocol.md 8.13): JSON of the
-- message's linkPreview, as last read.
ALTER TABLE messages ADD COLUMN link_preview TEXT;
