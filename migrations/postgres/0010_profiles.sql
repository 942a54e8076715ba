-- Running a community (protocol 9.8), third part: profiles and deleting
-- one's account.

-- The square picture made from an upload (files.file_id); users.avatar_url
-- is its URL. Readable by every signed-in user of the server.
ALTER TABLE users ADD COLUMN avatar_file_id TEXT;
-- Unix ms when the owner deleted the account. The row stays, so the name
-- is never given to anyone else, and its messages are tombstones.
ALTER TABLE users ADD COLUMN deleted_at BIGINT;
CREATE INDEX users_by_avatar ON users (avatar_file_id) WHERE avatar_file_id IS NOT NULL;
