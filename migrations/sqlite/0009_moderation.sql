-- Running a community (protocol 9.8), second part: room invite links,
-- bans, blocks and reports.

-- Invite links to a group. The code is the secret (192 random bits).
CREATE TABLE room_invites (
    code       TEXT PRIMARY KEY,
    room_id    TEXT NOT NULL REFERENCES rooms (room_id),
    created_by TEXT NOT NULL REFERENCES users (user_id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    max_uses   BIGINT,
    uses       BIGINT NOT NULL DEFAULT 0,
    revoked_at BIGINT
);
CREATE INDEX room_invites_by_room ON room_invites (room_id, created_at);

-- Who may not be in a group: removed by the ban, kept out of
-- room.members.add and room.join until unbanned.
CREATE TABLE room_bans (
    room_id   TEXT NOT NULL REFERENCES rooms (room_id),
    user_id   TEXT NOT NULL REFERENCES users (user_id),
    reason    TEXT,
    banned_by TEXT NOT NULL REFERENCES users (user_id),
    banned_at BIGINT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);

-- blocker_id blocked blocked_id.
CREATE TABLE user_blocks (
    blocker_id TEXT NOT NULL REFERENCES users (user_id),
    blocked_id TEXT NOT NULL REFERENCES users (user_id),
    blocked_at BIGINT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
CREATE INDEX user_blocks_by_blocked ON user_blocks (blocked_id);

-- Reports of messages, for the server's admins. What the message said when
-- it was reported is kept: an edit or a delete does not take the evidence.
CREATE TABLE reports (
    report_id   TEXT PRIMARY KEY,
    message_id  TEXT NOT NULL,
    room_id     TEXT NOT NULL,
    sender_id   TEXT NOT NULL,
    reporter_id TEXT NOT NULL REFERENCES users (user_id),
    reason      TEXT NOT NULL,
    content     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (message_id, reporter_id)
);
CREATE INDEX reports_by_time ON reports (created_at);
