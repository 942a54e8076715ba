-- Why the head of a room's outbox waits (NULL: it does not): the server
-- slowed this device down (`rate_limited`) or failed (`server_error`);
-- `not_before` says until when. Messages show it ("sending in 48 s"), and a
-- send held back by `rate_limited` may still be withdrawn.
ALTER TABLE outbox ADD COLUMN waiting TEXT;
-- Attempts sent with no answer yet: an attempt whose connection dropped
-- stays counted, since the server may still have stored it. A send held back
-- by the rate limit is withdrawn only when every attempt was answered.
ALTER TABLE outbox ADD COLUMN unanswered INTEGER NOT NULL DEFAULT 0;
