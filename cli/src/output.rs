//! Printing: one human line per item, or one JSON value per line with
//! `--json`. Results go to stdout; notes (offline, typing, connection state)
//! go to stderr so they never mix with what a script parses.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use leetchat_client::{Delivery, MessageView, RoomView};
use leetchat_protocol::Attachment;
use serde::Serialize;
use time::UtcOffset;

use crate::error::Result;
use crate::safe::{self, visible};

/// Where and how a command prints.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// `--json`: every result is one JSON value on one line.
    json: bool,
    /// The user's time zone, read once before any thread starts (reading it
    /// later is refused on Unix).
    offset: UtcOffset,
}

impl Output {
    /// An output printing JSON or human lines, with times at `offset`.
    pub fn new(json: bool, offset: UtcOffset) -> Output {
        Output { json, offset }
    }

    /// `--json` was given.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// The time zone messages are shown in.
    pub fn offset(&self) -> UtcOffset {
        self.offset
    }

    /// Prints one line to stdout, flushed at once (`tail` output is read live).
    pub fn line(&self, text: &str) -> Result<()> {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", safe::guard(text))?;
        out.flush()?;
        Ok(())
    }

    /// Prints a value as one line of JSON.
    pub fn json<T: Serialize>(&self, value: &T) -> Result<()> {
        self.line(&safe::json_line(&serde_json::to_string(value)?))
    }

    /// Prints a result: `value` as JSON with `--json`, else `human`.
    pub fn result<T: Serialize>(&self, value: &T, human: &str) -> Result<()> {
        if self.json {
            self.json(value)
        } else {
            self.line(human)
        }
    }

    /// Tells the user something on stderr (never part of the parsed output).
    pub fn note(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{}", safe::guard(text));
    }

    /// Prints a message as a line or as JSON.
    pub fn message(&self, m: &MessageView, names: &Names) -> Result<()> {
        if self.json {
            self.json(m)
        } else {
            self.line(&message_line(m, names, self.offset))
        }
    }

    /// Prints a room as a line or as JSON.
    pub fn room(&self, r: &RoomView) -> Result<()> {
        if self.json {
            self.json(r)
        } else {
            self.line(&room_line(r, self.offset))
        }
    }
}

/// What the rooms shown know of their messages: user names by user id (to
/// show who sent what) and which messages are pinned.
#[derive(Debug, Default, Clone)]
pub struct Names {
    names: HashMap<String, String>,
    pinned: HashSet<String>,
}

impl Names {
    /// The names of every member of `rooms`, and their pins.
    pub fn of_rooms<'a>(rooms: impl IntoIterator<Item = &'a RoomView>) -> Names {
        let mut names = HashMap::new();
        let mut pinned = HashSet::new();
        for r in rooms {
            for m in &r.members {
                if !m.user_name.is_empty() {
                    names.insert(m.user_id.clone(), m.user_name.clone());
                }
            }
            pinned.extend(r.pinned_message_ids.iter().cloned());
        }
        Names { names, pinned }
    }

    /// The user's name, or their id while the name is unknown.
    pub fn name<'a>(&'a self, user_id: &'a str) -> &'a str {
        self.names.get(user_id).map_or(user_id, String::as_str)
    }

    /// Whether the message is pinned in its room.
    pub fn is_pinned(&self, m: &MessageView) -> bool {
        m.message_id
            .as_ref()
            .is_some_and(|id| self.pinned.contains(id))
    }
}

/// `HH:MM` of an RFC 3339 time at `offset`; `--:--` when it does not parse.
pub fn clock(rfc3339: &str, offset: UtcOffset) -> String {
    match leetchat_protocol::time::parse_datetime(rfc3339) {
        Some(t) => {
            let t = t.to_offset(offset);
            format!("{:02}:{:02}", t.hour(), t.minute())
        }
        None => "--:--".into(),
    }
}

/// What a message says, with markers for edits, deletions and attachments.
fn body(m: &MessageView) -> String {
    if m.deleted_at.is_some() {
        return "(deleted)".into();
    }
    let mut parts: Vec<String> = Vec::new();
    if !m.content.is_empty() {
        // Controls are made visible before Markdown reads the text (a lone
        // carriage return would be a line break to it), and later lines
        // are indented so a message never looks like two.
        let safe: Vec<String> = m.content.split('\n').map(visible).collect();
        let text = leetchat_client::markdown::plain(&safe.join("\n"));
        let lines: Vec<String> = text.split('\n').map(visible).collect();
        parts.push(lines.join("\n    "));
    }
    for a in &m.attachments {
        parts.push(attachment(a));
    }
    if m.edited_at.is_some() {
        parts.push("(edited)".into());
    }
    let mut text = parts.join(" ");
    if let Some(p) = link_preview(m) {
        text.push_str("\n    ");
        text.push_str(&p);
    }
    text
}

/// `🔗 Title: description (site)`: the server's preview of the first link.
fn link_preview(m: &MessageView) -> Option<String> {
    let p = m.link_preview.as_ref()?;
    let mut text = format!("🔗 {}", visible(p.title.as_deref().unwrap_or(&p.url)));
    if let Some(d) = &p.description {
        text.push_str(&format!(": {}", visible(d)));
    }
    if let Some(site) = &p.site_name {
        text.push_str(&format!(" ({})", visible(site)));
    }
    Some(text)
}

/// `[image photo.png 1200x800 34 KB]` or `[file report.pdf 1.2 MB]`.
fn attachment(a: &Attachment) -> String {
    let kind = if a.mime.starts_with("image/") {
        "image"
    } else {
        "file"
    };
    let mut text = format!("[{kind} {}", visible(&a.name));
    if let (Some(w), Some(h)) = (a.width, a.height) {
        text.push_str(&format!(" {w}x{h}"));
    }
    text.push_str(&format!(
        " {}]",
        human_size(u64::try_from(a.size).unwrap_or(0))
    ));
    text
}

/// A size as people read it: `512 B`, `34 KB`, `1.2 MB`, `3.4 GB` (1 KB = 1024 B).
pub fn human_size(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = KB * 1024;
    const GB: u64 = MB * 1024;
    match bytes {
        b if b < KB => format!("{b} B"),
        b if b < MB => format!("{} KB", (b + KB / 2) / KB),
        b if b < GB => format!("{:.1} MB", b as f64 / MB as f64),
        b => format!("{:.1} GB", b as f64 / GB as f64),
    }
}

/// Characters of the replied message a reply line quotes.
const QUOTE_CHARS: usize = 40;

/// `(↩ alice: "the first words…")` for a reply; `(↩ a deleted message)`.
fn quote(m: &MessageView, names: &Names) -> Option<String> {
    let p = m.reply_preview.as_ref()?;
    if p.deleted_at.is_some() {
        return Some("(↩ a deleted message)".into());
    }
    let flat = p.content.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut text: String = flat.chars().take(QUOTE_CHARS).collect();
    if flat.chars().count() > QUOTE_CHARS {
        text.push('…');
    }
    if text.is_empty() {
        text = format!("[{}]", p.message_type);
    } else {
        text = format!("\"{}\"", visible(&text));
    }
    Some(format!("(↩ {}: {text})", visible(names.name(&p.sender_id))))
}

/// `[👍 2, 🎉 1]`, the user's own marked with `*`.
fn reactions(m: &MessageView) -> Option<String> {
    if m.reactions.is_empty() {
        return None;
    }
    let parts: Vec<String> = m
        .reactions
        .iter()
        .map(|r| {
            let mine = if r.mine { "*" } else { "" };
            format!("{} {}{mine}", visible(&r.emoji), r.count)
        })
        .collect();
    Some(format!("[{}]", parts.join(", ")))
}

/// `[seq] HH:MM sender: (↩ quote) content [reactions]` plus `(pinned)`,
/// `(pending)`, `(failed: why)`, `(edited)` or `(deleted)`; `[…]` while the
/// server has not numbered it.
pub fn message_line(m: &MessageView, names: &Names, offset: UtcOffset) -> String {
    let seq = m.seq.map_or_else(|| "…".to_owned(), |s| s.to_string());
    let mut text = body(m);
    if let Some(q) = quote(m, names) {
        text = format!("{q} {text}");
    }
    if let Some(r) = reactions(m) {
        text = format!("{text}  {r}");
    }
    if names.is_pinned(m) {
        text.push_str(" (pinned)");
    }
    let mut line = format!(
        "[{seq}] {} {}: {}",
        clock(&m.created_at, offset),
        visible(names.name(&m.sender_id)),
        text
    );
    match m.delivery {
        Delivery::Pending => line.push_str(" (pending)"),
        Delivery::Failed => {
            let why = m.error.as_deref().unwrap_or("refused by the server");
            line.push_str(&format!(" (failed: {})", visible(why)));
        }
        Delivery::Sent | Delivery::Read => {}
    }
    line
}

/// `name  [type]  N unread  last: sender: text  id: room_id`.
pub fn room_line(r: &RoomView, offset: UtcOffset) -> String {
    let names = Names::of_rooms([r]);
    let last = match &r.last_message {
        Some(m) => format!(
            "{} {}: {}",
            clock(&m.created_at, offset),
            visible(names.name(&m.sender_id)),
            body(m).lines().next().unwrap_or_default()
        ),
        None => "(no messages)".into(),
    };
    let mentions = match r.mention_count {
        0 => String::new(),
        1 => "  1 mention".into(),
        n => format!("  {n} mentions"),
    };
    // Said only when it is not the usual: everything, by default, unmuted.
    let usual = r.notify_follows_default
        && r.notify_level == leetchat_protocol::events::NotifyLevel::All
        && r.mute_until.is_none();
    let notify = if usual {
        String::new()
    } else {
        format!("  notify: {}", notify_summary(r, offset))
    };
    format!(
        "{}  [{}]  {} unread{mentions}{notify}  last: {last}  id: {}",
        visible(&r.name),
        r.room_type,
        r.unread_count,
        visible(&r.room_id)
    )
}

/// `mentions, muted until 14:00` / `all (default)` / `none, muted`.
pub fn notify_summary(r: &RoomView, offset: UtcOffset) -> String {
    let mut s = r.notify_level.as_str().to_owned();
    if r.notify_follows_default {
        s.push_str(" (default)");
    }
    if let Some(until) = &r.mute_until {
        if until.as_str() >= "9999" {
            s.push_str(", muted");
        } else {
            s.push_str(&format!(", muted until {}", when(until, offset)));
        }
    }
    s
}

/// `HH:MM` today, else `YYYY-MM-DD HH:MM`, at `offset`.
fn when(rfc3339: &str, offset: UtcOffset) -> String {
    match leetchat_protocol::time::parse_datetime(rfc3339) {
        Some(t) => {
            let t = t.to_offset(offset);
            let today = time::OffsetDateTime::now_utc().to_offset(offset).date();
            if t.date() == today {
                format!("{:02}:{:02}", t.hour(), t.minute())
            } else {
                format!(
                    "{:04}-{:02}-{:02} {:02}:{:02}",
                    t.year(),
                    u8::from(t.month()),
                    t.day(),
                    t.hour(),
                    t.minute()
                )
            }
        }
        None => visible(rfc3339),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leetchat_client::views::MemberView;

    fn msg() -> MessageView {
        MessageView {
            local_id: 1,
            message_id: Some("m1".into()),
            room_id: "r1".into(),
            seq: Some(7),
            sender_id: "u-alice".into(),
            temp_id: None,
            message_type: "text".into(),
            content: "hi there".into(),
            attachments: Vec::new(),
            reply_to: None,
            reply_preview: None,
            reactions: Vec::new(),
            mentions: Vec::new(),
            mentions_room: false,
            link_preview: None,
            created_at: "2024-05-01T13:04:05.000Z".into(),
            edited_at: None,
            deleted_at: None,
            delivery: Delivery::Sent,
            error: None,
            waiting: None,
            retry_at: None,
            island: false,
        }
    }

    fn room() -> RoomView {
        let member = |id: &str, name: &str| MemberView {
            user_id: id.into(),
            user_name: name.into(),
            display_name: String::new(),
            role: "member".into(),
            last_read_seq: 0,
            status: None,
            last_seen: None,
            avatar_url: None,
        };
        RoomView {
            room_id: "r1".into(),
            room_type: "group".into(),
            name: "team".into(),
            description: String::new(),
            members: vec![member("u-alice", "alice"), member("u-bob", "")],
            last_seq: 7,
            unread_count: 2,
            my_read_seq: 5,
            last_message: Some(msg()),
            has_older: false,
            mention_count: 0,
            pinned_message_ids: Vec::new(),
            notify_level: Default::default(),
            mute_until: None,
            notify_follows_default: true,
        }
    }

    #[test]
    fn a_sent_message_shows_seq_time_sender_and_text() {
        let names = Names::of_rooms([&room()]);
        assert_eq!(
            message_line(&msg(), &names, UtcOffset::UTC),
            "[7] 13:04 alice: hi there"
        );
    }

    #[test]
    fn a_sender_without_a_known_name_shows_as_their_id() {
        let mut m = msg();
        m.sender_id = "u-bob".into();
        let names = Names::of_rooms([&room()]);
        assert!(message_line(&m, &names, UtcOffset::UTC).contains(" u-bob: "));
    }

    #[test]
    fn pending_failed_edited_and_deleted_messages_are_marked() {
        let names = Names::default();
        let mut m = msg();
        m.seq = None;
        m.delivery = Delivery::Pending;
        assert_eq!(
            message_line(&m, &names, UtcOffset::UTC),
            "[…] 13:04 u-alice: hi there (pending)"
        );
        m.delivery = Delivery::Failed;
        m.error = Some("forbidden".into());
        assert!(message_line(&m, &names, UtcOffset::UTC).ends_with("hi there (failed: forbidden)"));
        let mut m = msg();
        m.edited_at = Some("2024-05-01T13:05:00.000Z".into());
        assert!(message_line(&m, &names, UtcOffset::UTC).ends_with("hi there (edited)"));
        m.deleted_at = Some("2024-05-01T13:06:00.000Z".into());
        m.content = String::new();
        assert!(message_line(&m, &names, UtcOffset::UTC).ends_with("u-alice: (deleted)"));
    }

    #[test]
    fn attachments_show_kind_name_size_and_an_images_dimensions() {
        let mut m = msg();
        m.message_type = "image".into();
        m.content = String::new();
        m.attachments = vec![Attachment {
            file_id: "f1".into(),
            name: "photo.png".into(),
            mime: "image/png".into(),
            size: 34 * 1024,
            width: Some(1200),
            height: Some(800),
            url: "/api/files/f1".into(),
            thumbnail_url: Some("/api/files/f1/thumbnail".into()),
        }];
        let names = Names::default();
        assert!(
            message_line(&m, &names, UtcOffset::UTC)
                .ends_with("u-alice: [image photo.png 1200x800 34 KB]")
        );
        m.content = "the report".into();
        m.attachments[0] = Attachment {
            name: "report.pdf".into(),
            mime: "application/pdf".into(),
            size: 1_258_291,
            width: None,
            height: None,
            thumbnail_url: None,
            ..m.attachments[0].clone()
        };
        assert!(
            message_line(&m, &names, UtcOffset::UTC)
                .ends_with("u-alice: the report [file report.pdf 1.2 MB]")
        );
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(3 * 1024 * 1024 * 1024), "3.0 GB");
    }

    #[test]
    fn times_are_shown_in_the_given_time_zone() {
        let two_hours = UtcOffset::from_hms(2, 0, 0).expect("a valid offset");
        assert_eq!(clock("2024-05-01T23:30:00.000Z", two_hours), "01:30");
        assert_eq!(clock("not a time", UtcOffset::UTC), "--:--");
    }

    #[test]
    fn a_multi_line_message_keeps_later_lines_indented() {
        let mut m = msg();
        m.content = "one\ntwo".into();
        assert!(message_line(&m, &Names::default(), UtcOffset::UTC).ends_with("one\n    two"));
    }

    #[test]
    fn markdown_reads_as_text_and_a_link_preview_follows_on_its_own_line() {
        let mut m = msg();
        m.content = "**see** [docs](https://e.org/d)\n```\ncode\n```".into();
        m.link_preview = Some(leetchat_protocol::LinkPreview {
            url: "https://e.org/d".into(),
            title: Some("The docs".into()),
            description: Some("All of it".into()),
            site_name: Some("E".into()),
            image: None,
        });
        let line = message_line(&m, &Names::default(), UtcOffset::UTC);
        assert!(
            line.ends_with(
                "see docs <https://e.org/d>\n    \n    │ code\n    🔗 The docs: All of it (E)"
            ),
            "{line}"
        );
    }

    #[test]
    fn a_room_line_has_name_type_unread_last_message_and_id() {
        assert_eq!(
            room_line(&room(), UtcOffset::UTC),
            "team  [group]  2 unread  last: 13:04 alice: hi there  id: r1"
        );
    }

    #[test]
    fn replies_quote_reactions_count_and_pins_show() {
        use leetchat_client::views::{ReactionView, ReplyView};
        let mut r = room();
        r.pinned_message_ids = vec!["m1".into()];
        r.mention_count = 2;
        let names = Names::of_rooms([&r]);
        let mut m = msg();
        m.reply_preview = Some(ReplyView {
            message_id: "m0".into(),
            sender_id: "u-alice".into(),
            message_type: "text".into(),
            content: "a long first message that goes on\nand on beyond forty".into(),
            deleted_at: None,
        });
        m.reactions = vec![
            ReactionView {
                emoji: "👍".into(),
                count: 2,
                user_ids: vec!["u-alice".into(), "u-bob".into()],
                mine: true,
                pending: false,
            },
            ReactionView {
                emoji: "🎉".into(),
                count: 1,
                user_ids: vec!["u-bob".into()],
                mine: false,
                pending: false,
            },
        ];
        assert_eq!(
            message_line(&m, &names, UtcOffset::UTC),
            "[7] 13:04 alice: (↩ alice: \"a long first message that goes on and on…\") hi there  [👍 2*, 🎉 1] (pinned)"
        );
        if let Some(p) = m.reply_preview.as_mut() {
            p.deleted_at = Some("2024-05-01T13:06:00.000Z".into());
        }
        assert!(
            message_line(&m, &names, UtcOffset::UTC).contains("(↩ a deleted message) hi there")
        );
        assert!(room_line(&r, UtcOffset::UTC).contains("2 unread  2 mentions  last:"));
    }
}
