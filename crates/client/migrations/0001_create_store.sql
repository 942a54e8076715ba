-- The client's offline store. Everything a UI shows is read from here.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE users (
    user_id      TEXT PRIMARY KEY,
    user_name    TEXT NOT NULL,
    display_name TEXT NOT NULL,
    avatar_url   TEXT,
    status       TEXT,
    last_seen    TEXT
);

CREATE TABLE rooms (
    room_id     TEXT PRIMARY KEY,
    room_type   TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    is_private  INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    -- the newest seq the server told us about
    last_seq    INTEGER NOT NULL DEFAULT 0,
    -- every event up to here has been applied: `sync` resumes from it
    synced_seq  INTEGER NOT NULL DEFAULT 0,
    -- the user's own read pointer
    my_read_seq INTEGER NOT NULL DEFAULT 0,
    -- older history exists on the server below the oldest stored message
    has_older   INTEGER NOT NULL DEFAULT 1,
    -- for ordering the room list
    activity_at TEXT NOT NULL
);

CREATE TABLE members (
    room_id       TEXT NOT NULL REFERENCES rooms (room_id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL,
    role          TEXT NOT NULL,
    joined_at     TEXT NOT NULL,
    last_read_seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id)
);

CREATE TABLE messages (
    local_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id   TEXT UNIQUE,
    room_id      TEXT NOT NULL,
    -- NULL while the message waits in the outbox
    seq          INTEGER,
    sender_id    TEXT NOT NULL,
    temp_id      TEXT,
    message_type TEXT NOT NULL,
    content      TEXT NOT NULL,
    attachments  TEXT NOT NULL DEFAULT '[]',
    reply_to     TEXT,
    created_at   TEXT NOT NULL,
    edited_at    TEXT,
    deleted_at   TEXT,
    -- pending | sent | failed
    status       TEXT NOT NULL,
    error        TEXT
);
CREATE UNIQUE INDEX messages_by_temp_id ON messages (sender_id, temp_id) WHERE temp_id IS NOT NULL;
CREATE INDEX messages_by_room_seq ON messages (room_id, seq);

CREATE VIRTUAL TABLE messages_fts USING fts5 (content, content = 'messages', content_rowid = 'local_id');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.local_id, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.local_id, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.local_id, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.local_id, new.content);
END;

-- Sends, edits and deletes waiting for the server, in the order they were made.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id    TEXT NOT NULL,
    -- send | edit | delete
    kind       TEXT NOT NULL,
    -- the send's tempId; for edit/delete the target's tempId (or message id)
    temp_id    TEXT NOT NULL,
    -- JSON: what to send, and (edit/delete) what to restore if refused
    payload    TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    -- unix ms before which it must not be tried (rate limits, server errors)
    not_before INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX outbox_by_room ON outbox (room_id, id);
