-- Running a community (protocol 9.8), first part: server admins,
-- deactivated accounts, and server invites for registration.

-- 1: a server admin (a role kept here, not in the configuration).
ALTER TABLE users ADD COLUMN is_admin BIGINT NOT NULL DEFAULT 0;
-- Unix ms when the account was deactivated; NULL while it is active.
ALTER TABLE users ADD COLUMN deactivated_at BIGINT;
-- Unix ms when all of the account's devices were last signed out at once
-- (deactivation, a password reset, deletion). Every node looks for recent
-- ones each second and closes the sockets of those devices.
ALTER TABLE users ADD COLUMN sessions_revoked_at BIGINT;
CREATE INDEX users_sessions_revoked ON users (sessions_revoked_at) WHERE sessions_revoked_at IS NOT NULL;
-- The server invite the account registered with, if any.
ALTER TABLE users ADD COLUMN invite_code TEXT;

-- Server invites: what REGISTRATION=invite asks for. The code is the
-- secret (192 random bits); a revoked, expired or used-up one is refused
-- like one that never existed.
CREATE TABLE server_invites (
    code       TEXT PRIMARY KEY,
    -- the admin who made it; NULL when made by `leetchat-server admin`
    created_by TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    max_uses   BIGINT,
    uses       BIGINT NOT NULL DEFAULT 0,
    revoked_at BIGINT,
    note       TEXT NOT NULL DEFAULT ''
);
