-- Unread counts are taken after every event a client applies
-- (`Store::room_counts`). With only (room_id, seq) indexed, each count
-- looked up every unread row in the table to check its sender and whether
-- it was deleted: O(unread) table lookups per event, which in the soak
-- benchmark (16 clients that never read) took most of the load generator's
-- CPU. A partial index holding what the count reads lets SQLite count from
-- the index alone (deleted_at is in it too, or SQLite still reads the row
-- to test it).
CREATE INDEX messages_unread ON messages (room_id, seq, sender_id, deleted_at) WHERE deleted_at IS NULL;
