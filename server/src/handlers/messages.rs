//! `message.send`, `message.edit`, `message.delete`: a message's life on its
//! room's stream. Each takes the room's next seq through [`StreamWrite`], in
//! a group commit ([`committer`]).

use std::sync::Arc;

use leetchat_protocol::events::{
    DeleteMessage, EditMessage, MessageDeleted, MessageEdited, MessageEnvelope, SendMessage,
};
use leetchat_protocol::time::rfc3339;
use leetchat_protocol::{MAX_CONTENT_CHARS, MAX_MENTIONS, Message, MessageType, Role};

use super::require_member;
use crate::committer;
use crate::db::messages::MessageRow;
use crate::db::{self, events::kind, new_id};
use crate::error::{AppError, AppResult, is_unique_violation};
use crate::previews;
use crate::ratelimit::Action;
use crate::session::{Session, truncate};
use crate::state::AppState;
use crate::stream::{RoomEvent, StreamWrite};
use crate::typists;

/// Most attachments on one message.
pub const MAX_ATTACHMENTS: usize = 10;
/// Longest accepted tempId.
pub const MAX_TEMP_ID: usize = 128;

/// Checks message text: at most 4000 characters; non-blank when `required`.
pub fn check_content(content: &str, required: bool) -> AppResult<()> {
    if content.chars().count() > MAX_CONTENT_CHARS {
        return Err(AppError::new(
            leetchat_protocol::ErrorCode::TooLarge,
            format!("content is longer than {MAX_CONTENT_CHARS} characters"),
        ));
    }
    if required && content.trim().is_empty() {
        return Err(AppError::invalid("content must not be blank"));
    }
    Ok(())
}

/// Checks the size of a mention list before anything is looked up.
fn check_mentions(mentions: &[String]) -> AppResult<()> {
    if mentions.len() > MAX_MENTIONS {
        return Err(AppError::invalid(format!(
            "mentions may name at most {MAX_MENTIONS} users"
        )));
    }
    Ok(())
}

/// The mentioned ids that are members of the room, each once, in the order
/// given (inside the write, so a member removed meanwhile is dropped).
async fn members_mentioned(w: &mut StreamWrite<'_>, mentions: &[String]) -> AppResult<Vec<String>> {
    if mentions.is_empty() {
        return Ok(Vec::new());
    }
    let members = w.member_roles().await?;
    let mut kept: Vec<String> = Vec::with_capacity(mentions.len());
    for id in mentions {
        if members.iter().any(|(u, _)| u == id) && !kept.contains(id) {
            kept.push(id.clone());
        }
    }
    Ok(kept)
}

/// Whether the caller is (still) a member, checked inside the write.
pub(super) async fn require_member_in(w: &mut StreamWrite<'_>, user_id: &str) -> AppResult<Role> {
    w.role_of(user_id).await?.ok_or_else(AppError::not_member)
}

/// `message.send`: idempotent on (sender, tempId); the ack leaves after commit.
pub async fn send(state: &AppState, s: &Session, req: SendMessage) -> AppResult<MessageEnvelope> {
    let mtype = match MessageType::parse(&req.message_type) {
        Some(MessageType::System) | None => {
            return Err(AppError::invalid("type must be text, image or file"));
        }
        Some(t) => t,
    };
    check_content(&req.content, mtype == MessageType::Text)?;
    if mtype != MessageType::Text && req.attachments.is_empty() {
        return Err(AppError::invalid(
            "image and file messages need attachments",
        ));
    }
    if req.attachments.len() > MAX_ATTACHMENTS {
        return Err(AppError::invalid(format!(
            "at most {MAX_ATTACHMENTS} attachments"
        )));
    }
    if let Some(t) = &req.temp_id
        && (t.is_empty() || t.chars().count() > MAX_TEMP_ID)
    {
        return Err(AppError::invalid(format!(
            "tempId must be 1 to {MAX_TEMP_ID} characters"
        )));
    }
    check_mentions(&req.mentions)?;

    // A resend of an acked message: answer with the original, create nothing.
    if let Some(t) = &req.temp_id
        && let Some(existing) = original(state, s, t, &req.room_id).await?
    {
        return Ok(MessageEnvelope { message: existing });
    }
    state.rate_limit(&s.user_id, Action::Message).await?;
    let preview = previews::plan(state, &req.content).await?;

    let job = Arc::new(SendJob {
        session: s.clone(),
        message_type: mtype.as_str(),
        preview_url: preview.attach_now().map(str::to_owned),
        req,
    });
    let room_id = job.req.room_id.clone();
    let written = {
        let job = job.clone();
        committer::write(state, &room_id, Some(s.conn_id), move |w| {
            let job = job.clone();
            Box::pin(async move { job.write(w).await })
        })
        .await?
    };
    let (pushes, message, members) = match written {
        (Sent::Created { message, pushes }, members) => (pushes, *message, members),
        // Two sends with one tempId raced: the other one won; answer with it.
        (Sent::Raced, _) => {
            let t = job.req.temp_id.as_deref().unwrap_or_default();
            return match original(state, s, t, &room_id).await? {
                Some(existing) => Ok(MessageEnvelope { message: existing }),
                None => Err(AppError {
                    retryable: true,
                    ..AppError::new(
                        leetchat_protocol::ErrorCode::Internal,
                        "a send with this tempId was under way; retry",
                    )
                }),
            };
        }
    };
    if pushes > 0 {
        crate::push::queued(state);
    }
    typists::stopped_by_send(state, &message.room_id, s, members);
    if let previews::Plan::Fetch(url) = preview {
        previews::spawn(
            state,
            previews::Job {
                room_id: message.room_id.clone(),
                message_id: message.message_id.clone(),
                sender_id: s.user_id.clone(),
                url,
            },
        );
    }
    Ok(MessageEnvelope { message })
}

/// A checked `message.send`, written in a group commit.
struct SendJob {
    session: Session,
    req: SendMessage,
    /// The checked type.
    message_type: &'static str,
    /// The link whose cached preview goes with the message.
    preview_url: Option<String>,
}

/// What a send wrote.
enum Sent {
    /// The message, and how many Web Pushes it queued.
    Created {
        message: Box<Message>,
        pushes: usize,
    },
    /// Another send with the same tempId got in first: nothing was written.
    Raced,
}

impl SendJob {
    /// The send's rows, in the write that took its seq.
    async fn write(&self, w: &mut StreamWrite<'_>) -> AppResult<Sent> {
        let (s, req) = (&self.session, &self.req);
        let kind = w.state().db.kind;
        require_member_in(w, &s.user_id).await?;
        if let Some(peer) = super::safety::direct_peer(&req.room_id, &s.user_id)
            && db::moderation::is_blocked(w.tx(), peer, &s.user_id).await?
        {
            return Err(AppError::forbidden(
                "this person does not take messages from you",
            ));
        }
        let mut attachments = Vec::with_capacity(req.attachments.len());
        for f in &req.attachments {
            match db::files::of_uploader(w.tx(), f, &s.user_id).await? {
                Some(file) => attachments.push(file.to_attachment()),
                None => {
                    return Err(AppError::forbidden(format!(
                        "attachment {:?} is not a file you uploaded",
                        truncate(f, 64)
                    )));
                }
            }
        }
        // A reply may answer a deleted message: an offline reply must not be
        // lost because the original went away meanwhile.
        let reply_preview = match &req.reply_to {
            Some(r) => match db::messages::row(w.tx(), r).await? {
                Some(target) if target.room_id == req.room_id => Some(target.preview()),
                _ => {
                    return Err(AppError::invalid(
                        "replyTo must name a message in this room",
                    ));
                }
            },
            None => None,
        };
        let mentions = members_mentioned(w, &req.mentions).await?;
        let row = MessageRow {
            message_id: new_id(),
            room_id: req.room_id.clone(),
            seq: w.seq(),
            sender_id: s.user_id.clone(),
            temp_id: req.temp_id.clone(),
            message_type: self.message_type.to_owned(),
            content: req.content.clone(),
            reply_to: req.reply_to.clone(),
            created_at: w.now(),
            edited_at: None,
            deleted_at: None,
            mentions_room: i64::from(req.mentions_room),
            preview_url: self.preview_url.clone(),
        };
        let words = db::search::words_of(&row.content, &attachments);
        if let Err(e) = db::messages::insert(w.tx(), kind, &row, &words).await {
            if is_unique_violation(&e) && row.temp_id.is_some() {
                return Ok(Sent::Raced);
            }
            return Err(e.into());
        }
        if !req.attachments.is_empty() {
            db::files::attach(w.tx(), &row.message_id, &req.attachments).await?;
        }
        if !mentions.is_empty() {
            db::mentions::set(w.tx(), &row.room_id, &row.message_id, row.seq, &mentions).await?;
        }
        let link_preview = match &self.preview_url {
            Some(url) => db::previews::of_urls(w.tx(), &[url.as_str()])
                .await?
                .remove(url.as_str()),
            None => None,
        };
        let mut message = row.into_message(attachments);
        message.reply_preview = reply_preview;
        message.mentions = mentions;
        message.link_preview = link_preview;
        // Pushes to the members' devices that are away: decided in this write,
        // so they commit (or roll back) with the message.
        let now = w.now();
        let pushes = crate::push::queue_message(w.tx(), &message, &s.user_name, now).await?;
        w.record(RoomEvent::MessageCreated(message.clone())).await?;
        Ok(Sent::Created {
            message: Box::new(message),
            pushes,
        })
    }
}

/// The message this sender already created with `temp_id`, if any. A tempId
/// reused for another room is a client bug worth saying so.
async fn original(
    state: &AppState,
    s: &Session,
    temp_id: &str,
    room_id: &str,
) -> AppResult<Option<Message>> {
    let Some(row) = db::messages::by_temp_id(state.db.reader(), &s.user_id, temp_id).await? else {
        return Ok(None);
    };
    if row.room_id != room_id {
        return Err(AppError::conflict(
            "this tempId was already used for another room",
        ));
    }
    let mut conn = state.db.reader().acquire().await?;
    Ok(db::messages::hydrate(&mut conn, vec![row]).await?.pop())
}

/// Looks a message up and checks the caller belongs to its room (the room is
/// taken from the message, never from the client).
pub(super) async fn message_for_member(
    state: &AppState,
    s: &Session,
    message_id: &str,
) -> AppResult<(MessageRow, Role)> {
    let Some(m) = db::messages::row(state.db.reader(), message_id).await? else {
        return Err(AppError::not_found("no such message"));
    };
    let role = require_member(state, &m.room_id, &s.user_id).await?;
    Ok((m, role))
}

/// `message.edit`: the sender only; takes a seq; pushed as `message.edited`.
pub async fn edit(state: &AppState, s: &Session, req: EditMessage) -> AppResult<MessageEdited> {
    let (m, _) = message_for_member(state, s, &req.message_id).await?;
    if m.sender_id != s.user_id {
        return Err(AppError::forbidden("only the sender can edit a message"));
    }
    if m.deleted_at.is_some() {
        return Err(AppError::conflict("the message was deleted"));
    }
    check_content(&req.content, m.message_type == "text")?;
    if let Some(mentions) = &req.mentions {
        check_mentions(mentions)?;
    }
    let preview = previews::plan(state, &req.content).await?;

    let job = Arc::new(EditJob {
        user_id: s.user_id.clone(),
        m,
        req,
        preview,
    });
    let room_id = job.m.room_id.clone();
    let ((edited, fetch), _) = {
        let job = job.clone();
        committer::write(state, &room_id, Some(s.conn_id), move |w| {
            let job = job.clone();
            Box::pin(async move { job.write(w).await })
        })
        .await?
    };
    if let Some(url) = fetch {
        previews::spawn(
            state,
            previews::Job {
                room_id,
                message_id: job.m.message_id.clone(),
                sender_id: s.user_id.clone(),
                url,
            },
        );
    }
    Ok(edited)
}

/// A checked `message.edit`, written in a group commit.
struct EditJob {
    user_id: String,
    /// The message as it was before the write.
    m: MessageRow,
    req: EditMessage,
    preview: previews::Plan,
}

impl EditJob {
    /// The edit in the write that took its seq, and the link whose preview
    /// is to be fetched after it.
    async fn write(&self, w: &mut StreamWrite<'_>) -> AppResult<(MessageEdited, Option<String>)> {
        let (m, req, preview) = (&self.m, &self.req, &self.preview);
        let state = w.state();
        require_member_in(w, &self.user_id).await?;
        let now = w.now();
        if !db::messages::set_content(w.tx(), &m.message_id, &req.content, now).await? {
            return Err(AppError::conflict("the message was deleted"));
        }
        // The preview follows the first link: kept while it stays, replaced
        // (at once from the cache, or fetched after the commit) when it changes.
        let current = db::messages::row(w.tx(), &m.message_id)
            .await?
            .and_then(|r| r.preview_url);
        let fetch = if preview.url().is_some() && preview.url() == current.as_deref() {
            None
        } else {
            db::previews::set_on_message(w.tx(), &m.message_id, preview.attach_now()).await?;
            match preview {
                previews::Plan::Fetch(url) => Some(url.clone()),
                _ => None,
            }
        };
        // Absent mention fields leave the message's mentions as they were.
        if let Some(mentions) = &req.mentions {
            let kept = members_mentioned(w, mentions).await?;
            db::mentions::set(w.tx(), &m.room_id, &m.message_id, m.seq, &kept).await?;
        }
        if let Some(room) = req.mentions_room {
            db::mentions::set_room(w.tx(), &m.message_id, room).await?;
        }
        let message = db::messages::load(w.tx(), &m.message_id)
            .await?
            .ok_or_else(|| AppError::not_found("no such message"))?;
        let words = db::search::words_of(&message.content, &message.attachments);
        db::search::reindex(w.tx(), state.db.kind, &m.message_id, Some(&words)).await?;
        let seq = w.seq();
        w.record(RoomEvent::MessageEdited(message.clone())).await?;
        touch_replies(state, w, &m.message_id).await?;
        Ok((MessageEdited { message, seq }, fetch))
    }
}

/// `message.delete`: the sender, or the room's owner/admin; leaves a tombstone.
/// Deleting a deleted message answers with the original deletion.
pub async fn delete(
    state: &AppState,
    s: &Session,
    req: DeleteMessage,
) -> AppResult<MessageDeleted> {
    let (m, role) = message_for_member(state, s, &req.message_id).await?;
    if m.sender_id != s.user_id && !role.can_manage() {
        return Err(AppError::forbidden(
            "only the sender or a room owner/admin can delete a message",
        ));
    }
    if m.deleted_at.is_some() {
        return earlier_deletion(state, m).await;
    }

    match tombstone(state, &m, &s.user_id, Some(s.conn_id), true).await? {
        Some(deleted) => Ok(deleted),
        None => {
            // Deleted concurrently: answer with that deletion.
            let m = db::messages::row(state.db.reader(), &req.message_id)
                .await?
                .ok_or_else(|| AppError::not_found("no such message"))?;
            earlier_deletion(state, m).await
        }
    }
}

/// Deletes `m` as `actor` in its room's stream (a `message.deleted` with a
/// seq, and an unpin after it when it was pinned), in a group commit;
/// `exclude` is the connection that asked. With `check`, the actor must
/// still be its sender or a manager of the room, and a member; deleting an
/// account's messages does without. `None` when it was deleted meanwhile
/// (the seq goes back).
pub(crate) async fn tombstone(
    state: &AppState,
    m: &MessageRow,
    actor: &str,
    exclude: Option<crate::fanout::ConnId>,
    check: bool,
) -> AppResult<Option<MessageDeleted>> {
    let job = Arc::new(DeleteJob {
        m: m.clone(),
        actor: actor.to_owned(),
        check,
    });
    let (deleted, _) = committer::write(state, &m.room_id, exclude, move |w| {
        let job = job.clone();
        Box::pin(async move { job.write(w).await })
    })
    .await?;
    Ok(deleted)
}

/// A delete, written in a group commit.
struct DeleteJob {
    m: MessageRow,
    actor: String,
    check: bool,
}

impl DeleteJob {
    /// The tombstone (and the unpin) in the write that took its seq;
    /// `None`, recording nothing, when it was deleted meanwhile.
    async fn write(&self, w: &mut StreamWrite<'_>) -> AppResult<Option<MessageDeleted>> {
        let (m, actor) = (&self.m, &self.actor);
        let state = w.state();
        if self.check {
            let role_now = w.role_of(actor).await?;
            if !role_now.is_some_and(|r| m.sender_id == *actor || r.can_manage()) {
                return Err(AppError::forbidden("you may not delete this message"));
            }
        }
        let now = w.now();
        if !db::messages::tombstone(w.tx(), &m.message_id, now).await? {
            return Ok(None);
        }
        db::search::reindex(w.tx(), state.db.kind, &m.message_id, None).await?;
        let seq = w.seq();
        let tombstone = db::messages::load(w.tx(), &m.message_id)
            .await?
            .ok_or_else(|| AppError::not_found("no such message"))?;
        let deleted_at = rfc3339(now);
        w.record(RoomEvent::MessageDeleted {
            tombstone,
            deleted_at: deleted_at.clone(),
        })
        .await?;
        touch_replies(state, w, &m.message_id).await?;
        // A deleted message is unpinned, as its own event right after the delete.
        if db::pins::remove(w.tx(), &m.room_id, &m.message_id).await? {
            w.take_next().await?;
            w.record(RoomEvent::Unpinned {
                message_id: m.message_id.clone(),
                user_id: actor.clone(),
            })
            .await?;
        }
        Ok(Some(MessageDeleted {
            room_id: m.room_id.clone(),
            message_id: m.message_id.clone(),
            seq,
            deleted_at,
        }))
    }
}

/// The replies to a message that just changed show it in their previews:
/// on a cluster, the recent-history cache must get them again.
async fn touch_replies(
    state: &AppState,
    w: &mut StreamWrite<'_>,
    message_id: &str,
) -> AppResult<()> {
    if !state.bus.caches_history() {
        return Ok(());
    }
    let cap = crate::cluster::history::CACHED_MESSAGES as i64;
    for reply in db::messages::replies_to(w.tx(), message_id, cap).await? {
        w.touched(reply);
    }
    Ok(())
}

/// The answer to deleting a message that is already deleted: the deletion
/// that happened, with its seq.
async fn earlier_deletion(state: &AppState, m: MessageRow) -> AppResult<MessageDeleted> {
    let seq = db::events::seq_of(state.db.reader(), &m.room_id, &m.message_id, kind::DELETED)
        .await?
        .unwrap_or(m.seq);
    Ok(MessageDeleted {
        seq,
        deleted_at: rfc3339(m.deleted_at.unwrap_or(m.created_at)),
        room_id: m.room_id,
        message_id: m.message_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_limited_in_characters_not_bytes() {
        assert!(check_content(&"é".repeat(4000), true).is_ok());
        assert!(check_content(&"a".repeat(4001), true).is_err());
        assert!(check_content("   ", true).is_err());
        assert!(check_content("", false).is_ok());
    }
}
