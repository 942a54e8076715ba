//! The Lua scripts the cluster runs in Redis. Each is one atomic step, so
//! nodes racing on the same keys always agree (who came online first, who
//! left last, how many actions fit in a window).

use redis::Script;

/// Routes one event: for every recipient, the nodes holding their
/// connections; publishes to each such node (but the caller's) the recipients
/// it holds, then the payload.
///
/// KEYS: the recipients' node sets. ARGV: own node, channel prefix, payload,
/// then the recipients' ids in KEYS order. Returns how many nodes it reached.
const ROUTE: &str = r"
local per_node = {}
local order = {}
for i, key in ipairs(KEYS) do
  for _, n in ipairs(redis.call('SMEMBERS', key)) do
    if n ~= ARGV[1] then
      local t = per_node[n]
      if not t then t = {}; per_node[n] = t; order[#order + 1] = n end
      t[#t + 1] = ARGV[3 + i]
    end
  end
end
for _, n in ipairs(order) do
  redis.call('PUBLISH', ARGV[2] .. n, table.concat(per_node[n], ',') .. '\n' .. ARGV[3])
end
return #order
";

/// A user's first connection on this node. KEYS: the user's node set, this
/// node's user set. ARGV: node, user. Returns the nodes the user is now on.
const CONNECT: &str = r"
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[1], ARGV[1])
return redis.call('SCARD', KEYS[1])
";

/// A user's last connection on this node went away. Same keys and arguments
/// as [`CONNECT`]. Returns the nodes the user is still on.
const DISCONNECT: &str = r"
redis.call('SREM', KEYS[2], ARGV[2])
redis.call('SREM', KEYS[1], ARGV[1])
return redis.call('SCARD', KEYS[1])
";

/// Removes a dead node: its users leave its sets. KEYS: the dead node's user
/// set, the node registry. ARGV: dead node, user-key prefix. Returns the
/// users who are now on no node at all.
const REAP: &str = r"
local gone = {}
for _, u in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local k = ARGV[2] .. u
  redis.call('SREM', k, ARGV[1])
  if redis.call('SCARD', k) == 0 then gone[#gone + 1] = u end
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return gone
";

/// Removes a dead node's devices from their sets (its users go with
/// [`REAP`], which also drops the node). KEYS: the dead node's device set.
/// ARGV: dead node, device-key prefix.
const REAP_DEVICES: &str = r"
for _, d in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  redis.call('SREM', ARGV[2] .. d, ARGV[1])
end
redis.call('DEL', KEYS[1])
return 0
";

/// Sliding-log rate limit on Redis's clock. KEYS: the log. ARGV: count,
/// window in ms, a unique member. Returns 0 when allowed, else the wait in ms.
const RATE_LIMIT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
";

/// The scripts, hashed once.
#[derive(Debug)]
pub struct Scripts {
    /// See [`ROUTE`].
    pub route: Script,
    /// See [`CONNECT`].
    pub connect: Script,
    /// See [`DISCONNECT`].
    pub disconnect: Script,
    /// See [`REAP`].
    pub reap: Script,
    /// See [`REAP_DEVICES`].
    pub reap_devices: Script,
    /// See [`RATE_LIMIT`].
    pub rate_limit: Script,
}

impl Default for Scripts {
    fn default() -> Self {
        Scripts {
            route: Script::new(ROUTE),
            connect: Script::new(CONNECT),
            disconnect: Script::new(DISCONNECT),
            reap: Script::new(REAP),
            reap_devices: Script::new(REAP_DEVICES),
            rate_limit: Script::new(RATE_LIMIT),
        }
    }
}
