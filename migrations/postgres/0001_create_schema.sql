-- LeetChat schema (PostgreSQL). Times are Unix milliseconds (BIGINT) so the same
-- queries run on SQLite and PostgreSQL. Append-only: never edit a shipped file.

CREATE TABLE users (
    user_id       TEXT PRIMARY KEY,
    user_name     TEXT NOT NULL,
    -- lower-cased userName: names are unique regardless of case
    user_name_key TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    avatar_url    TEXT,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen     BIGINT
);

CREATE TABLE devices (
    device_id    TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (user_id),
    name         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX devices_by_user ON devices (user_id);

-- Refresh tokens are stored hashed; a spent one (used_at set) presented again
-- revokes its device.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    device_id  TEXT NOT NULL REFERENCES devices (device_id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX refresh_tokens_by_device ON refresh_tokens (device_id);

CREATE TABLE rooms (
    room_id          TEXT PRIMARY KEY,
    room_type        TEXT NOT NULL,
    name             TEXT NOT NULL,
    description      TEXT NOT NULL,
    is_private       BIGINT NOT NULL,
    created_by       TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    -- the room's event stream counter, bumped in the transaction of each event
    last_seq         BIGINT NOT NULL DEFAULT 0,
    last_activity_at BIGINT NOT NULL
);

CREATE TABLE room_members (
    room_id       TEXT NOT NULL REFERENCES rooms (room_id),
    user_id       TEXT NOT NULL REFERENCES users (user_id),
    role          TEXT NOT NULL,
    joined_at     BIGINT NOT NULL,
    last_read_seq BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_by_user ON room_members (user_id);

CREATE TABLE messages (
    message_id   TEXT PRIMARY KEY,
    room_id      TEXT NOT NULL REFERENCES rooms (room_id),
    seq          BIGINT NOT NULL,
    sender_id    TEXT NOT NULL REFERENCES users (user_id),
    temp_id      TEXT,
    message_type TEXT NOT NULL,
    content      TEXT NOT NULL,
    reply_to     TEXT,
    created_at   BIGINT NOT NULL,
    edited_at    BIGINT,
    deleted_at   BIGINT
);
CREATE UNIQUE INDEX messages_by_room_seq ON messages (room_id, seq);
CREATE INDEX messages_by_room_time ON messages (room_id, created_at);
-- idempotent sends: one message per (sender, tempId)
CREATE UNIQUE INDEX messages_by_sender_temp_id ON messages (sender_id, temp_id)
    WHERE temp_id IS NOT NULL;

-- The gapless per-room event stream that `sync` replays. Payloads are built
-- from current state, so deleted content never resurfaces through old events.
CREATE TABLE room_events (
    room_id    TEXT NOT NULL REFERENCES rooms (room_id),
    seq        BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    message_id TEXT,
    user_id    TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (room_id, seq)
);
CREATE INDEX room_events_member_left ON room_events (user_id, room_id)
    WHERE kind = 'room.member_left';

CREATE TABLE files (
    file_id     TEXT PRIMARY KEY,
    uploader_id TEXT NOT NULL REFERENCES users (user_id),
    name        TEXT NOT NULL,
    mime        TEXT NOT NULL,
    size        BIGINT NOT NULL,
    width       BIGINT,
    height      BIGINT,
    sha256      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX files_by_uploader ON files (uploader_id);

CREATE TABLE message_attachments (
    message_id TEXT NOT NULL REFERENCES messages (message_id),
    position   BIGINT NOT NULL,
    file_id    TEXT NOT NULL REFERENCES files (file_id),
    PRIMARY KEY (message_id, position)
);
CREATE INDEX message_attachments_by_file ON message_attachments (file_id);
