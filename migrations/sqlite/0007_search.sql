-- Server-side search (protocol 9.7).
--
-- A contentless FTS5 table holds each message's words, folded by the server
-- (leetchat_protocol::search) and joined with spaces, so the `ascii`
-- tokenizer only splits them again (it keeps non-ASCII letters inside
-- words). Prefix indexes make the last word's prefix query cheap.
-- `contentless_delete` lets an edit or a delete replace a row.
CREATE VIRTUAL TABLE message_search USING fts5 (
    words,
    content = '',
    contentless_delete = 1,
    tokenize = 'ascii',
    prefix = '2 3'
);

-- The FTS row of a message. Its own column, not the messages table's rowid
-- (which VACUUM may renumber): it grows with each new message, so the
-- index's rowid order is newest first. Rows that existed before this
-- migration are NULL until the server indexes them in the background
-- (they get negative ids, older ones lower).
ALTER TABLE messages ADD COLUMN search_rowid BIGINT;
-- Partial: with the NULLs in it, SQLite would take it for "IS NULL" and sort
-- every unindexed row to find the newest (a second per batch at 1M rows).
CREATE UNIQUE INDEX messages_by_search_rowid ON messages (search_rowid) WHERE search_rowid IS NOT NULL;
CREATE INDEX messages_not_indexed ON messages (created_at, message_id) WHERE search_rowid IS NULL;
