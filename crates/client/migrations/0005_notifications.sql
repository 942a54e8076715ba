-- Notification settings (protocol 9.5) as the server last said: the level
-- set for the room (NULL: the user's default, kept in meta as
-- notify_default) and its mute (RFC 3339; NULL: not muted).
ALTER TABLE rooms ADD COLUMN notify_level TEXT;
ALTER TABLE rooms ADD COLUMN mute_until TEXT;
