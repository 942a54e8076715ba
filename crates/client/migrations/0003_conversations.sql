-- v1.1 conversations: reply previews, mentions, reactions, pins.

-- JSON of the server's replyPreview, as last read.
ALTER TABLE messages ADD COLUMN reply_preview TEXT;
-- JSON array of mentioned user ids.
ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE messages ADD COLUMN mentions_room INTEGER NOT NULL DEFAULT 0;

-- One row per (message, emoji, user), present or taken back. seq: the seq of
-- the last reaction event applied to the row, 0 when the row came from a
-- message object (a snapshot); an event only replaces a row with a lower
-- seq, and a snapshot only rows of seq 0, so pushes, sync replays and pages
-- applied in any order end the same. pending: the user's own change waiting
-- in the outbox. ord: the emoji's place (order of first use).
CREATE TABLE reactions (
    local_id INTEGER NOT NULL REFERENCES messages (local_id) ON DELETE CASCADE,
    emoji    TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    present  INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    ord      INTEGER NOT NULL,
    pending  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (local_id, emoji, user_id)
);
-- Reactors the server counted but did not list (beyond the first 100).
CREATE TABLE reaction_extra (
    local_id INTEGER NOT NULL REFERENCES messages (local_id) ON DELETE CASCADE,
    emoji    TEXT NOT NULL,
    extra    INTEGER NOT NULL,
    PRIMARY KEY (local_id, emoji)
);

-- A room's pins, with the same rules as reactions (seq 0: from a room
-- object, whose order is ord).
CREATE TABLE pins (
    room_id    TEXT NOT NULL REFERENCES rooms (room_id) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    pinned     INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    ord        INTEGER NOT NULL,
    pending    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, message_id)
);

-- mentionCount: unread messages that mention the user or the room.
CREATE INDEX messages_mentioning ON messages (room_id, seq)
    WHERE mentions_room = 1 OR mentions <> '[]';
