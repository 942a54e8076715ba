-- Search (protocol 9.7) with the server's word rules.
--
-- The full-text index holds each message's words as leetchat_protocol::search
-- folds them (case, accents, scripts without spaces), computed by the
-- store's SQL function leetchat_words(content, attachments), so a query
-- finds here exactly what it finds on the server. Deleted messages are not
-- indexed.
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
DROP TABLE messages_fts;

CREATE VIRTUAL TABLE messages_fts USING fts5 (
    words,
    content = '',
    contentless_delete = 1,
    tokenize = 'ascii',
    prefix = '2 3'
);
INSERT INTO messages_fts (rowid, words)
    SELECT local_id, leetchat_words(content, attachments) FROM messages WHERE deleted_at IS NULL;
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO messages_fts (rowid, words) VALUES (new.local_id, leetchat_words(new.content, new.attachments));
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    DELETE FROM messages_fts WHERE rowid = old.local_id;
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, attachments, deleted_at ON messages BEGIN
    DELETE FROM messages_fts WHERE rowid = old.local_id;
    INSERT INTO messages_fts (rowid, words)
        SELECT new.local_id, leetchat_words(new.content, new.attachments) WHERE new.deleted_at IS NULL;
END;

-- A message stored on its own, away from the room's history as loaded (a
-- search result from the server, the history around it, an edit of a
-- message never loaded): 1. The room's history view and "load older" go by
-- the messages with 0 only, so an island never hides the gap between it
-- and the loaded history; loading older history up to it joins it (0).
ALTER TABLE messages ADD COLUMN island INTEGER NOT NULL DEFAULT 0;
