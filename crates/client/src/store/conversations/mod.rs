//! Reactions, pins, mentions and reply previews (protocol 9.1-9.4) in the
//! store, applied idempotently in any order.
//!
//! Reactions and pins are kept per (message, emoji, user) and per (room,
//! message) with the seq of the last event applied to each (0 when the row
//! came from a message or room object, a snapshot): an event replaces only a
//! row with a lower seq, a snapshot only rows of seq 0, so a push, the same
//! event replayed by `sync`, and a page read in between end the same,
//! whichever comes first. The user's own changes are `pending` until the
//! outbox hears back; an opposite change made before the first was tried
//! cancels it, so toggling offline sends nothing.

use std::collections::HashMap;

use leetchat_protocol::events::{PinsAck, ReactionsAck};
use leetchat_protocol::text::check_emoji;
use leetchat_protocol::{Message, Reaction, RoomType};
use rusqlite::{Connection, OptionalExtension, params};

use super::Store;
use super::outbox::{OutboxItem, Payload, PinPayload, ReactPayload};
use crate::error::{Error, Result};
use crate::views::{MessageView, ReactionView, ReplyView};

/// Places of emoji that appear with an event, after every snapshot place.
const EVENT_ORD: i64 = 1 << 40;

/// Writes what a server message says of its reply preview, mentions and
/// reactions onto the stored row `local_id` (inside `apply_message`'s
/// transaction).
pub(crate) fn store_snapshot(conn: &Connection, local_id: i64, m: &Message) -> Result<()> {
    let preview = m
        .reply_preview
        .as_ref()
        .map(|p| {
            serde_json::to_string(&ReplyView {
                message_id: p.message_id.clone(),
                sender_id: p.sender_id.clone(),
                message_type: p.message_type.as_str().to_owned(),
                content: p.content.clone(),
                deleted_at: p.deleted_at.clone(),
            })
        })
        .transpose()?;
    conn.execute(
        "UPDATE messages SET reply_preview = COALESCE(?2, reply_preview), mentions = ?3,
           mentions_room = ?4 WHERE local_id = ?1",
        params![
            local_id,
            preview,
            serde_json::to_string(&m.mentions)?,
            m.mentions_room
        ],
    )?;
    store_reactions(conn, local_id, &m.reactions)
}

/// Replaces a room's snapshot pins (from a room object), newest first.
pub(crate) fn store_pins(conn: &Connection, room_id: &str, ids: &[String]) -> Result<()> {
    conn.execute(
        "DELETE FROM pins WHERE room_id = ?1 AND seq = 0 AND pending = 0",
        [room_id],
    )?;
    for (ord, id) in ids.iter().enumerate() {
        conn.execute(
            "INSERT INTO pins (room_id, message_id, pinned, seq, ord) VALUES (?1, ?2, 1, 0, ?3)
             ON CONFLICT (room_id, message_id) DO NOTHING",
            params![room_id, id, ord as i64],
        )?;
    }
    Ok(())
}

/// The reaction rows of the messages `local_ids`, as views.
pub(crate) fn reactions_of(
    conn: &Connection,
    local_ids: &[i64],
    me: Option<&str>,
) -> Result<HashMap<i64, Vec<ReactionView>>> {
    let mut out: HashMap<i64, Vec<ReactionView>> = HashMap::new();
    if local_ids.is_empty() {
        return Ok(out);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT r.emoji, r.user_id, r.pending,
                (SELECT MIN(o.ord) FROM reactions o WHERE o.local_id = r.local_id AND o.emoji = r.emoji AND o.present = 1) AS place,
                COALESCE((SELECT e.extra FROM reaction_extra e WHERE e.local_id = r.local_id AND e.emoji = r.emoji), 0)
         FROM reactions r WHERE r.local_id = ?1 AND r.present = 1
         ORDER BY place, r.seq = 0 DESC, r.seq, r.rowid",
    )?;
    for &id in local_ids {
        let rows = stmt.query_map([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, i64>(4)?,
            ))
        })?;
        let mut list: Vec<ReactionView> = Vec::new();
        for row in rows {
            let (emoji, user, pending, extra) = row?;
            let mine = me == Some(user.as_str());
            match list.iter_mut().find(|v| v.emoji == emoji) {
                Some(v) => {
                    v.count += 1;
                    v.mine |= mine;
                    v.pending |= mine && pending;
                    v.user_ids.push(user);
                }
                None => list.push(ReactionView {
                    emoji,
                    count: 1 + extra,
                    user_ids: vec![user],
                    mine,
                    pending: mine && pending,
                }),
            }
        }
        if !list.is_empty() {
            out.insert(id, list);
        }
    }
    Ok(out)
}

/// The room's pinned message ids, newest pin first.
pub(crate) fn pins_of(conn: &Connection, room_id: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT message_id FROM pins WHERE room_id = ?1 AND pinned = 1
         ORDER BY seq = 0, seq DESC, ord",
    )?;
    let rows = stmt.query_map([room_id], |r| r.get(0))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// Unread messages of the room that mention `me` or the room.
pub(crate) fn mention_count(
    conn: &Connection,
    room_id: &str,
    my_read_seq: i64,
    me: &str,
) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM messages m
         WHERE m.room_id = ?1 AND m.seq > ?2 AND m.sender_id <> ?3 AND m.deleted_at IS NULL
           AND (m.mentions_room = 1 OR m.mentions <> '[]')
           AND (m.mentions_room = 1 OR EXISTS (SELECT 1 FROM json_each(m.mentions) j WHERE j.value = ?3))",
        params![room_id, my_read_seq, me],
        |r| r.get(0),
    )?)
}

impl Store {
    /// The stored replies to a message (their previews show it).
    pub fn replies_to(&self, message_id: &str) -> Result<Vec<MessageView>> {
        let ids: Vec<i64> = {
            let conn = self.conn();
            let mut stmt =
                conn.prepare_cached("SELECT local_id FROM messages WHERE reply_to = ?1")?;
            let rows = stmt.query_map([message_id], |r| r.get(0))?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        ids.into_iter()
            .map(|id| self.message_by_local_id(id))
            .collect()
    }

    fn local_id_of(&self, message_id: &str) -> Result<Option<i64>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT local_id FROM messages WHERE message_id = ?1",
                [message_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// A `reaction.added` / `reaction.removed` event. Returns the message
    /// when it is stored (one that is not is read with its reactions when
    /// its page is).
    pub fn apply_reaction(
        &self,
        message_id: &str,
        user_id: &str,
        emoji: &str,
        seq: i64,
        added: bool,
    ) -> Result<Option<MessageView>> {
        let Some(local_id) = self.local_id_of(message_id)? else {
            return Ok(None);
        };
        {
            let conn = self.conn();
            let place: Option<i64> = conn.query_row(
                "SELECT MIN(ord) FROM reactions WHERE local_id = ?1 AND emoji = ?2 AND present = 1",
                params![local_id, emoji],
                |r| r.get(0),
            )?;
            let ord = place.unwrap_or(EVENT_ORD + seq);
            // A pending row is the user's own intent: only its seq follows.
            conn.execute(
                "INSERT INTO reactions (local_id, emoji, user_id, present, seq, ord) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (local_id, emoji, user_id) DO UPDATE SET
                   present = CASE WHEN reactions.pending = 1 THEN reactions.present ELSE excluded.present END,
                   ord = CASE WHEN excluded.present = 1 AND reactions.present = 0 THEN excluded.ord ELSE reactions.ord END,
                   seq = excluded.seq
                 WHERE excluded.seq > reactions.seq",
                params![local_id, emoji, user_id, added, seq, ord],
            )?;
        }
        self.message_by_local_id(local_id).map(Some)
    }

    /// A `message.pinned` / `message.unpinned` event.
    pub fn apply_pin(&self, room_id: &str, message_id: &str, seq: i64, pinned: bool) -> Result<()> {
        self.conn().execute(
            "INSERT INTO pins (room_id, message_id, pinned, seq, ord)
             SELECT ?1, ?2, ?3, ?4, 0 WHERE EXISTS (SELECT 1 FROM rooms WHERE room_id = ?1)
             ON CONFLICT (room_id, message_id) DO UPDATE SET
               pinned = CASE WHEN pins.pending = 1 THEN pins.pinned ELSE excluded.pinned END,
               seq = excluded.seq
             WHERE excluded.seq > pins.seq",
            params![room_id, message_id, pinned, seq],
        )?;
        Ok(())
    }

    /// Reacts (or takes a reaction back) locally and queues it. An opposite
    /// change still waiting untried is withdrawn instead: nothing is sent.
    pub fn enqueue_reaction(
        &self,
        me: &str,
        key: &str,
        emoji: &str,
        add: bool,
    ) -> Result<MessageView> {
        check_emoji(emoji).map_err(|e| Error::Invalid(e.into()))?;
        let t = self.message_by_key(key)?;
        if t.deleted_at.is_some() {
            return Err(Error::Invalid("the message was deleted".into()));
        }
        let has = t.reactions.iter().any(|r| r.emoji == emoji && r.mine);
        if has == add {
            return Ok(t);
        }
        if add {
            let mine = t.reactions.iter().filter(|r| r.mine).count();
            if mine >= leetchat_protocol::MAX_REACTIONS_PER_USER {
                return Err(Error::Invalid(format!(
                    "at most {} different reactions per message",
                    leetchat_protocol::MAX_REACTIONS_PER_USER
                )));
            }
        }
        let target = t
            .message_id
            .clone()
            .or_else(|| t.temp_id.clone())
            .ok_or_else(|| Error::Invalid("the message has no id yet".into()))?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let untried: Option<(i64, String)> = tx
            .query_row(
                "SELECT id, payload FROM outbox WHERE kind = 'react' AND attempts = 0
                   AND (temp_id = ?1 OR temp_id = ?2) AND json_extract(payload, '$.emoji') = ?3
                 ORDER BY id DESC LIMIT 1",
                params![target, t.temp_id.as_deref().unwrap_or(""), emoji],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let withdrawn = match untried {
            Some((id, payload)) => {
                let p: ReactPayload = serde_json::from_str(&payload)?;
                if p.add != add {
                    tx.execute("DELETE FROM outbox WHERE id = ?1", [id])?;
                    true
                } else {
                    false
                }
            }
            None => false,
        };
        if !withdrawn {
            let payload = Payload::React(ReactPayload {
                emoji: emoji.to_owned(),
                add,
            });
            tx.execute(
                "INSERT INTO outbox (room_id, kind, temp_id, payload, created_at) VALUES (?1, 'react', ?2, ?3, ?4)",
                params![t.room_id, target, payload.to_json()?, leetchat_protocol::time::now_ms()],
            )?;
        }
        // Still pending if another change of this reaction waits.
        let waiting: i64 = tx.query_row(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'react' AND (temp_id = ?1 OR temp_id = ?2)
               AND json_extract(payload, '$.emoji') = ?3",
            params![target, t.temp_id.as_deref().unwrap_or(""), emoji],
            |r| r.get(0),
        )?;
        let place: Option<i64> = tx.query_row(
            "SELECT MIN(ord) FROM reactions WHERE local_id = ?1 AND emoji = ?2 AND present = 1",
            params![t.local_id, emoji],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO reactions (local_id, emoji, user_id, present, seq, ord, pending) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)
             ON CONFLICT (local_id, emoji, user_id) DO UPDATE SET present = excluded.present,
               pending = excluded.pending, ord = CASE WHEN excluded.present = 1 THEN excluded.ord ELSE reactions.ord END",
            params![t.local_id, emoji, me, add, place.unwrap_or(EVENT_ORD + i64::MAX / 4), waiting > 0],
        )?;
        tx.commit()?;
        drop(conn);
        self.message_by_local_id(t.local_id)
    }

    /// Pins or unpins a sent message locally and queues it; in a group only
    /// owners and admins may. Returns the room. An opposite change still
    /// waiting untried is withdrawn instead.
    pub fn enqueue_pin(&self, me: &str, key: &str, pin: bool) -> Result<String> {
        let t = self.message_by_key(key)?;
        let Some(message_id) = t.message_id.clone() else {
            return Err(Error::Invalid(
                "the message is not sent yet: pin it once it is".into(),
            ));
        };
        if pin && t.deleted_at.is_some() {
            return Err(Error::Invalid("a deleted message cannot be pinned".into()));
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (room_type, role): (String, Option<String>) = tx.query_row(
            "SELECT r.room_type, (SELECT m.role FROM members m WHERE m.room_id = r.room_id AND m.user_id = ?2)
             FROM rooms r WHERE r.room_id = ?1",
            params![t.room_id, me],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if room_type == RoomType::Group.as_str()
            && !matches!(role.as_deref(), Some("owner" | "admin"))
        {
            return Err(Error::Invalid(
                "only the owner or an admin can pin and unpin in a group".into(),
            ));
        }
        let pinned: bool = tx
            .query_row(
                "SELECT pinned FROM pins WHERE room_id = ?1 AND message_id = ?2",
                params![t.room_id, message_id],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(false);
        if pinned == pin {
            return Ok(t.room_id);
        }
        let untried: Option<(i64, String)> = tx
            .query_row(
                "SELECT id, payload FROM outbox WHERE kind = 'pin' AND attempts = 0 AND temp_id = ?1
                 ORDER BY id DESC LIMIT 1",
                [&message_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let withdrawn = match untried {
            Some((id, payload)) if serde_json::from_str::<PinPayload>(&payload)?.pin != pin => {
                tx.execute("DELETE FROM outbox WHERE id = ?1", [id])?;
                true
            }
            _ => false,
        };
        if !withdrawn {
            let payload = Payload::Pin(PinPayload { pin });
            tx.execute(
                "INSERT INTO outbox (room_id, kind, temp_id, payload, created_at) VALUES (?1, 'pin', ?2, ?3, ?4)",
                params![t.room_id, message_id, payload.to_json()?, leetchat_protocol::time::now_ms()],
            )?;
        }
        let waiting: i64 = tx.query_row(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'pin' AND temp_id = ?1",
            [&message_id],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO pins (room_id, message_id, pinned, seq, ord, pending) VALUES (?1, ?2, ?3, 0, -1, ?4)
             ON CONFLICT (room_id, message_id) DO UPDATE SET pinned = excluded.pinned, pending = excluded.pending",
            params![t.room_id, message_id, pin, waiting > 0],
        )?;
        tx.commit()?;
        Ok(t.room_id)
    }

    /// The server answered a queued reaction: its reactions become the
    /// snapshot, and the user's row the event of the ack's seq (or, when
    /// nothing changed, whatever the server says).
    pub fn reaction_acked(
        &self,
        me: &str,
        item: &OutboxItem,
        ack: &ReactionsAck,
    ) -> Result<Option<MessageView>> {
        let Payload::React(p) = &item.payload else {
            return Ok(None);
        };
        let Some(local_id) = self.local_id_of(&ack.message_id)? else {
            return Ok(None);
        };
        {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            let still_waiting: i64 = tx.query_row(
                "SELECT COUNT(*) FROM outbox WHERE kind = 'react' AND id <> ?1 AND temp_id = ?2
                   AND json_extract(payload, '$.emoji') = ?3",
                params![item.id, item.temp_id, p.emoji],
                |r| r.get(0),
            )?;
            let listed = ack
                .reactions
                .iter()
                .any(|r| r.emoji == p.emoji && r.user_ids.iter().any(|u| u == me));
            let present = if ack.seq.is_some() { p.add } else { listed };
            tx.execute(
                "UPDATE reactions SET present = CASE WHEN ?5 THEN present ELSE ?4 END,
                   seq = MAX(seq, ?6), pending = ?5
                 WHERE local_id = ?1 AND emoji = ?2 AND user_id = ?3",
                params![
                    local_id,
                    p.emoji,
                    me,
                    present,
                    still_waiting > 0,
                    ack.seq.unwrap_or(0)
                ],
            )?;
            store_reactions(&tx, local_id, &ack.reactions)?;
            tx.commit()?;
        }
        self.message_by_local_id(local_id).map(Some)
    }

    /// The server answered a queued pin: the room's pins as it says.
    pub fn pin_acked(&self, item: &OutboxItem, ack: &PinsAck) -> Result<()> {
        let Payload::Pin(p) = &item.payload else {
            return Ok(());
        };
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let still_waiting: i64 = tx.query_row(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'pin' AND id <> ?1 AND temp_id = ?2",
            params![item.id, item.temp_id],
            |r| r.get(0),
        )?;
        let present = match ack.seq {
            Some(_) => p.pin,
            None => ack.pinned_message_ids.contains(&item.temp_id),
        };
        tx.execute(
            "UPDATE pins SET pinned = CASE WHEN ?4 THEN pinned ELSE ?3 END, seq = MAX(seq, ?5), pending = ?4
             WHERE room_id = ?1 AND message_id = ?2",
            params![ack.room_id, item.temp_id, present, still_waiting > 0, ack.seq.unwrap_or(0)],
        )?;
        store_pins(&tx, &ack.room_id, &ack.pinned_message_ids)?;
        tx.commit()?;
        Ok(())
    }

    /// A queued reaction or pin was refused for good: the local change is undone.
    /// `local`: the stored message the item is about, if any.
    pub(crate) fn undo_conversation_change(
        &self,
        item: &OutboxItem,
        local: Option<i64>,
    ) -> Result<Option<MessageView>> {
        match &item.payload {
            Payload::React(p) => {
                let Some(local_id) = local else {
                    return Ok(None);
                };
                self.conn().execute(
                    "UPDATE reactions SET present = ?3, pending = 0 WHERE local_id = ?1 AND emoji = ?2 AND pending = 1",
                    params![local_id, p.emoji, !p.add],
                )?;
                self.message_by_local_id(local_id).map(Some)
            }
            Payload::Pin(p) => {
                self.conn().execute(
                    "UPDATE pins SET pinned = ?3, pending = 0 WHERE room_id = ?1 AND message_id = ?2 AND pending = 1",
                    params![item.room_id, item.temp_id, !p.pin],
                )?;
                Ok(None)
            }
            _ => Ok(None),
        }
    }
}

/// A snapshot of a message's reactions (from a message object or an ack):
/// its rows replace the earlier snapshot's; rows an event or the user's own
/// pending change wrote stay.
fn store_reactions(conn: &Connection, local_id: i64, reactions: &[Reaction]) -> Result<()> {
    conn.execute(
        "DELETE FROM reactions WHERE local_id = ?1 AND seq = 0 AND pending = 0",
        [local_id],
    )?;
    conn.execute("DELETE FROM reaction_extra WHERE local_id = ?1", [local_id])?;
    for (ord, r) in reactions.iter().enumerate() {
        for u in &r.user_ids {
            conn.execute(
                "INSERT INTO reactions (local_id, emoji, user_id, present, seq, ord) VALUES (?1, ?2, ?3, 1, 0, ?4)
                 ON CONFLICT (local_id, emoji, user_id) DO UPDATE SET ord = MIN(ord, excluded.ord)",
                params![local_id, r.emoji, u, ord as i64],
            )?;
        }
        let extra = r.count - r.user_ids.len() as i64;
        if extra > 0 {
            conn.execute(
                "INSERT INTO reaction_extra (local_id, emoji, extra) VALUES (?1, ?2, ?3)",
                params![local_id, r.emoji, extra],
            )?;
        }
        // Rows of this emoji from events take its place too.
        conn.execute(
            "UPDATE reactions SET ord = ?3 WHERE local_id = ?1 AND emoji = ?2 AND ord > ?3",
            params![local_id, r.emoji, ord as i64],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
