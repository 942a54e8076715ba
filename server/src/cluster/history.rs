//! The recent-history cache: each room's newest [`CACHED_MESSAGES`] messages
//! in Redis for 24 h, so opening a room (the newest page of
//! `message.history`, by far the most common read) does not touch the
//! database.
//!
//! One hash per room, `{p}:h:{gen}:{room}`: field `m:{seq}` holds
//! `version \t message JSON` (version: the stream seq of the last event that
//! changed the message), field `meta` holds `1` when the hash has every
//! message of the room. `{p}:hs:{room}` holds the newest stream seq any node
//! wrote. The rules that keep it right with several nodes and no lock:
//!
//! - Writers (send, edit, delete; after commit) raise `hs` and update an
//!   existing hash, only where their version is newer than what is there, so
//!   updates arriving out of order cannot bring back an old text.
//! - A reader that misses notes the room's stream seq `R` before reading the
//!   page from the database, and fills the hash only if it still does not
//!   exist and no writer went past `R` (otherwise the fill could miss that
//!   write). Filled entries get version `R`.
//! - If a write to Redis fails, the node bumps the generation `{p}:hgen` once
//!   Redis answers again (every node picks it up at its next heartbeat), so a
//!   hash that missed an update is never read again; old generations expire.

use std::sync::atomic::Ordering;

use leetchat_protocol::objects::Message;

use super::Cluster;

/// Messages kept per room (the largest history page).
pub const CACHED_MESSAGES: usize = 100;

/// How long a room's cache lives without writes.
const TTL_SECONDS: u64 = 24 * 3600;

/// Raises the room's writer seq; updates the message where it is newer.
/// KEYS: hash, hs. ARGV: version, message seq, JSON, max messages, ttl.
const UPDATE: &str = r"
local ver = tonumber(ARGV[1])
if ver > tonumber(redis.call('GET', KEYS[2]) or '0') then
  redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[5])
end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local f = 'm:' .. ARGV[2]
local old = redis.call('HGET', KEYS[1], f)
if old and tonumber(string.match(old, '^(%d+)')) >= ver then return 0 end
redis.call('HSET', KEYS[1], f, ARGV[1] .. '\t' .. ARGV[3])
local seqs = {}
for _, k in ipairs(redis.call('HKEYS', KEYS[1])) do
  local s = string.match(k, '^m:(%d+)$')
  if s then seqs[#seqs + 1] = tonumber(s) end
end
local extra = #seqs - tonumber(ARGV[4])
if extra > 0 then
  table.sort(seqs)
  for i = 1, extra do redis.call('HDEL', KEYS[1], 'm:' .. seqs[i]) end
  redis.call('HSET', KEYS[1], 'meta', '0')
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
";

/// Fills an absent hash unless a writer went past the reader's seq.
/// KEYS: hash, hs. ARGV: R, complete flag, ttl, then message seq and JSON pairs.
const FILL: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if tonumber(redis.call('GET', KEYS[2]) or '0') > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'meta', ARGV[2])
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[1], 'm:' .. ARGV[i], ARGV[1] .. '\t' .. ARGV[i + 1])
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
";

/// The scripts of the cache.
#[derive(Debug)]
pub struct HistoryScripts {
    update: redis::Script,
    fill: redis::Script,
}

impl Default for HistoryScripts {
    fn default() -> Self {
        HistoryScripts {
            update: redis::Script::new(UPDATE),
            fill: redis::Script::new(FILL),
        }
    }
}

/// A newest page served from the cache.
#[derive(Debug)]
pub struct CachedPage {
    /// Ascending by seq.
    pub messages: Vec<Message>,
    /// Whether older messages exist.
    pub has_more: bool,
}

impl Cluster {
    fn hash_key(&self, room_id: &str) -> String {
        let g = self.history_gen.load(Ordering::Relaxed);
        format!("{}:h:{g}:{room_id}", self.prefix)
    }

    fn hs_key(&self, room_id: &str) -> String {
        format!("{}:hs:{room_id}", self.prefix)
    }

    pub(super) fn gen_key(&self) -> String {
        format!("{}:hgen", self.prefix)
    }

    /// The newest `limit` messages of a room, if the cache can tell.
    pub async fn cached_newest(&self, room_id: &str, limit: usize) -> Option<CachedPage> {
        let mut c = self.conn()?;
        let all: Vec<(String, String)> = redis::cmd("HGETALL")
            .arg(self.hash_key(room_id))
            .query_async(&mut c)
            .await
            .map_err(|e| self.failed("history cache read", &e))
            .ok()?;
        let mut complete = None;
        let mut rows: Vec<(i64, &str)> = Vec::with_capacity(all.len());
        for (k, v) in &all {
            if k == "meta" {
                complete = Some(v == "1");
            } else if let Some(seq) = k.strip_prefix("m:").and_then(|s| s.parse().ok()) {
                rows.push((seq, v.split_once('\t')?.1));
            }
        }
        let complete = complete?;
        if rows.len() <= limit && !complete {
            return None;
        }
        rows.sort_unstable_by_key(|(s, _)| *s);
        let has_more = rows.len() > limit || !complete;
        let start = rows.len().saturating_sub(limit);
        let messages = rows[start..]
            .iter()
            .map(|(_, j)| serde_json::from_str(j))
            .collect::<Result<Vec<Message>, _>>()
            .ok()?;
        Some(CachedPage { messages, has_more })
    }

    /// Fills a room's cache from a database read that started at stream seq
    /// `read_seq`: `newest` ascending, `complete` when it is the whole room.
    pub async fn fill_history(
        &self,
        room_id: &str,
        read_seq: i64,
        newest: &[Message],
        complete: bool,
    ) {
        let Some(mut c) = self.conn() else {
            return;
        };
        let mut inv = self.history_scripts.fill.prepare_invoke();
        inv.key(self.hash_key(room_id))
            .key(self.hs_key(room_id))
            .arg(read_seq)
            .arg(if complete { "1" } else { "0" })
            .arg(TTL_SECONDS);
        for m in newest {
            let Ok(j) = serde_json::to_string(m) else {
                return;
            };
            inv.arg(m.seq).arg(j);
        }
        if let Err(e) = inv.invoke_async::<i64>(&mut c).await {
            self.history_failed(&e);
        }
    }

    /// Records a change to a message (new, edited or deleted) made by the
    /// room event `version`. Called after commit and before the ack and the
    /// pushes leave, so whoever learns of the change reads it back.
    pub async fn history_changed(&self, version: i64, message: &Message) {
        let Some(mut c) = self.conn() else {
            self.history_dirty.store(true, Ordering::Relaxed);
            return;
        };
        let Ok(json) = serde_json::to_string(message) else {
            return;
        };
        let r = self
            .history_scripts
            .update
            .key(self.hash_key(&message.room_id))
            .key(self.hs_key(&message.room_id))
            .arg(version)
            .arg(message.seq)
            .arg(json)
            .arg(CACHED_MESSAGES)
            .arg(TTL_SECONDS)
            .invoke_async::<i64>(&mut c)
            .await;
        if let Err(e) = r {
            self.history_failed(&e);
        }
    }

    fn history_failed(&self, e: &redis::RedisError) {
        self.history_dirty.store(true, Ordering::Relaxed);
        self.failed("history cache write", e);
    }
}
