-- Notification levels and mutes (protocol 9.5), per user and room, and the
-- user's default level (extension).

-- 'all', 'mentions', 'none'; NULL: the user's default.
ALTER TABLE room_members ADD COLUMN notify_level TEXT;
-- Unix ms; NULL: not muted.
ALTER TABLE room_members ADD COLUMN mute_until BIGINT;
-- The level of every room the user has set none for.
ALTER TABLE users ADD COLUMN notify_default TEXT NOT NULL DEFAULT 'all';
