-- Server-side search (protocol 9.7).
--
-- Each message's words, folded by the server (leetchat_protocol::search),
-- as a tsvector without stemming or stop words (array_to_tsvector), so any
-- language works and both engines find the same messages. NULL: not indexed
-- yet (rows from before this migration; the server indexes them in the
-- background).
ALTER TABLE messages ADD COLUMN search TSVECTOR;
CREATE INDEX messages_search ON messages USING GIN (search);
-- Newest first across rooms, for search's keyset paging.
CREATE INDEX messages_by_time ON messages (created_at, message_id);
CREATE INDEX messages_not_indexed ON messages (created_at, message_id) WHERE search IS NULL;
