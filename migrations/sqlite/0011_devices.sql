-- Signed-in devices, as their owner sees them (settings: "sign out" per
-- device): when each was last active (its last token refresh).
ALTER TABLE devices ADD COLUMN last_active_at BIGINT;
