-- v1.1 conversations: mentions, reactions, pins (protocol section 9.1-9.4).
-- Replies need no table: messages.reply_to exists since 0001 and previews
-- are read from the replied message as it is now.

-- Whether the message mentions the whole room (0/1).
ALTER TABLE messages ADD COLUMN mentions_room BIGINT NOT NULL DEFAULT 0;
-- A room event's extra detail: the emoji of a reaction event.
ALTER TABLE room_events ADD COLUMN detail TEXT;

-- The replies to a message (their previews change when it is edited or deleted).
CREATE INDEX messages_by_reply_to ON messages (reply_to) WHERE reply_to IS NOT NULL;
-- Messages that mention the room, for mentionCount.
CREATE INDEX messages_mentioning_room ON messages (room_id, seq) WHERE mentions_room = 1;

-- The members a message mentions, in the order given.
CREATE TABLE message_mentions (
    message_id TEXT NOT NULL REFERENCES messages (message_id),
    user_id    TEXT NOT NULL REFERENCES users (user_id),
    position   BIGINT NOT NULL,
    room_id    TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    PRIMARY KEY (message_id, user_id)
);
-- mentionCount: a user's mentions in a room above the read pointer.
CREATE INDEX message_mentions_by_user ON message_mentions (user_id, room_id, seq);

-- One row per (message, emoji, user). seq is the room seq of the add;
-- first_seq the seq at which the emoji appeared on the message (kept while
-- anyone has it, so a chip keeps its place when its first reactor leaves).
CREATE TABLE reactions (
    message_id TEXT NOT NULL REFERENCES messages (message_id),
    emoji      TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (user_id),
    seq        BIGINT NOT NULL,
    first_seq  BIGINT NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);
-- How many different reactions a user has on a message (at most 20).
CREATE INDEX reactions_by_message_user ON reactions (message_id, user_id);

-- A room's pinned messages; seq is the pin event's, newest pin first.
CREATE TABLE pins (
    room_id    TEXT NOT NULL REFERENCES rooms (room_id),
    message_id TEXT NOT NULL REFERENCES messages (message_id),
    pinned_by  TEXT NOT NULL REFERENCES users (user_id),
    seq        BIGINT NOT NULL,
    PRIMARY KEY (room_id, message_id)
);
