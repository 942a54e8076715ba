-- Web Push (protocol 9.6): one subscription per device, a durable queue of
-- pushes (so a push decided before a crash is still sent after it, by one
-- node), what each device was pushed about (for the `read` pushes), and the
-- server's own keys (the VAPID key pair, shared by every node).

CREATE TABLE push_subscriptions (
    device_id  TEXT PRIMARY KEY REFERENCES devices (device_id),
    user_id    TEXT NOT NULL REFERENCES users (user_id),
    endpoint   TEXT NOT NULL,
    p256dh     TEXT NOT NULL,
    auth       TEXT NOT NULL,
    -- 1: payloads may carry the first words of a message.
    previews   BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id);

CREATE TABLE push_queue (
    push_id       TEXT PRIMARY KEY,
    device_id     TEXT NOT NULL,
    room_id       TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    -- The decrypted payload (JSON), encrypted for the device when sent.
    body          TEXT NOT NULL,
    -- 'high' or 'normal' (the Urgency header).
    urgency       TEXT NOT NULL,
    -- The Topic header: a resend after a crash replaces the first at the push service.
    topic         TEXT NOT NULL,
    attempts      BIGINT NOT NULL,
    -- Unix ms: not before then (back-off after a failure).
    next_at       BIGINT NOT NULL,
    -- Unix ms: a node is sending it until then.
    claimed_until BIGINT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX push_queue_due ON push_queue (next_at);

-- The newest seq a device was pushed about in a room (cleared by a read).
CREATE TABLE push_pushed (
    device_id TEXT NOT NULL,
    room_id   TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    PRIMARY KEY (device_id, room_id)
);

CREATE TABLE server_keys (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
