//! Web Push to devices that are not connected (protocol 9.6, RFC 8030,
//! payloads encrypted per RFC 8291 by `web-push-native`, signed per RFC 8292
//! by [`vapid`]).
//!
//! How a push happens:
//! 1. **Decided in the write.** The send that creates a message asks
//!    [`queue_message`] inside its own transaction: for every subscribed
//!    device of a member (not the sender), the protocol's one rule
//!    ([`leetchat_protocol::events::notifies`]: level, mute, mention) says
//!    whether its user is notified; if so a row goes into `push_queue`. It
//!    commits with the message, so a crash right after the ack loses no
//!    push, and a rollback queues none.
//! 2. **Sent by one node.** Every node runs [`spawn_worker`]: it claims due
//!    rows (PostgreSQL `FOR UPDATE SKIP LOCKED`; SQLite has one writer) for
//!    twice `PUSH_TIMEOUT` and 10 s. For each: a message its user has read
//!    (or whose room they left) since is dropped; a device connected to any
//!    node gets nothing (it has the message live); else the payload is
//!    encrypted for the device and POSTed through [`crate::egress`] (https,
//!    public addresses, unless the operator lists the host). 2xx: done;
//!    404/410: the subscription is dead and goes; 429, 5xx or no answer:
//!    tried again after 1 s, 2 s, 4 s … for `PUSH_RETRY_FOR` (5 min); any
//!    other answer: given up. The `Topic` header is the message's, so the
//!    rare resend after a crash between the POST and its bookkeeping
//!    replaces the first at the push service.
//! 3. **Reads clear.** When the user's read pointer moves, each device that
//!    was pushed about the room since gets a `read` push ([`queue_read`]).

pub mod settings;
pub mod vapid;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use leetchat_protocol::events::{Notifiable, NotifyLevel, PushPayload, notifies};
use leetchat_protocol::time::now_ms;
use leetchat_protocol::{Message, RoomType};
use reqwest::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};
use url::Url;

use crate::db::{self, new_id, push::Queued};
use crate::egress::{Egress, Policy};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use settings::PushSettings;
use vapid::Vapid;

/// Characters of a message a push may preview.
pub const PREVIEW_CHARS: usize = 100;
/// Pushes claimed at once.
const CLAIM_BATCH: i64 = 50;
/// The longest the worker sleeps without looking at the queue.
const POLL: Duration = Duration::from_secs(1);

/// This node's Web Push: its identity and outbound client.
#[derive(Debug)]
pub struct WebPush {
    vapid: Vapid,
    egress: Egress,
    settings: PushSettings,
    /// Woken when this node queued something.
    wake: tokio::sync::Notify,
}

/// Why Web Push could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum PushSetupError {
    /// The VAPID key.
    #[error(transparent)]
    Vapid(#[from] vapid::VapidError),
    /// The outbound HTTP client.
    #[error("the push client: {0}")]
    Client(#[from] reqwest::Error),
}

impl WebPush {
    /// Loads (or makes) the VAPID key and the outbound client.
    pub async fn start(
        db: &db::Db,
        settings: &PushSettings,
        data_dir: &std::path::Path,
    ) -> Result<WebPush, PushSetupError> {
        let vapid = Vapid::load(
            db,
            settings.vapid_private_key.as_deref(),
            data_dir,
            &settings.subject,
        )
        .await?;
        let egress = Egress::new(
            Policy::new(true, &settings.allow_http_hosts),
            concat!("LeetChat/", env!("CARGO_PKG_VERSION"), " (web push)"),
        )?;
        Ok(WebPush {
            vapid,
            egress,
            settings: settings.clone(),
            wake: tokio::sync::Notify::new(),
        })
    }

    /// base64url of the VAPID public key.
    pub fn public_key(&self) -> &str {
        self.vapid.public_key()
    }

    /// Checks a subscription's endpoint and keys before it is stored:
    /// `invalid` naming the problem.
    pub async fn check(&self, endpoint: &str, p256dh: &str, auth: &str) -> AppResult<()> {
        let url = Url::parse(endpoint)
            .map_err(|_| AppError::invalid("endpoint must be an absolute URL"))?;
        if endpoint.chars().count() > 2048 {
            return Err(AppError::invalid("endpoint is longer than 2048 characters"));
        }
        self.egress.check_endpoint(&url).await.map_err(|e| {
            AppError::invalid(format!(
                "endpoint refused: {e} (https on a public address, or a host in PUSH_ALLOW_HTTP_HOSTS)"
            ))
        })?;
        public_key(p256dh).ok_or_else(|| {
            AppError::invalid("keys.p256dh must be base64url of an uncompressed P-256 point")
        })?;
        auth_secret(auth)
            .ok_or_else(|| AppError::invalid("keys.auth must be base64url of 16 bytes"))?;
        Ok(())
    }
}

fn public_key(b64: &str) -> Option<p256::PublicKey> {
    let bytes = URL_SAFE_NO_PAD.decode(b64.trim_end_matches('=')).ok()?;
    if bytes.len() != 65 {
        return None;
    }
    p256::PublicKey::from_sec1_bytes(&bytes).ok()
}

fn auth_secret(b64: &str) -> Option<web_push_native::Auth> {
    let bytes = URL_SAFE_NO_PAD.decode(b64.trim_end_matches('=')).ok()?;
    let bytes: [u8; 16] = bytes.try_into().ok()?;
    Some(web_push_native::Auth::from(bytes))
}

/// The Topic header (at most 32 URL-safe characters) for `what`.
fn topic(what: &str) -> String {
    let digest = Sha256::digest(what.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..24])
}

/// In the write that created `m` (before commit): queues a push for every
/// subscribed device whose user `m` notifies. `sender_user_name` is shown
/// when the sender has no display name. One query when nobody in the room
/// has a subscription.
pub async fn queue_message(
    conn: &mut sqlx::AnyConnection,
    m: &Message,
    sender_user_name: &str,
    now: i64,
) -> AppResult<usize> {
    let mut recipients = db::push::recipients(&mut *conn, &m.room_id, &m.sender_id).await?;
    if recipients.is_empty() {
        return Ok(0);
    }
    // Whoever blocked the sender is pushed nothing from it.
    let blockers = db::moderation::blockers_of(&mut *conn, &m.sender_id).await?;
    recipients.retain(|r| !blockers.contains(&r.user_id));
    let room_type = db::rooms::row(&mut *conn, &m.room_id)
        .await?
        .map_or(RoomType::Group, |r| r.kind());
    let sender_name = db::users::display_name_of(&mut *conn, &m.sender_id)
        .await?
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| sender_user_name.to_owned());
    let mut queued = 0;
    for r in recipients {
        let level = r
            .notify_level
            .as_deref()
            .and_then(NotifyLevel::parse)
            .or_else(|| NotifyLevel::parse(&r.notify_default))
            .unwrap_or_default();
        let mentions_me = m.mentions_room || m.mentions.contains(&r.user_id);
        let notify = notifies(
            level,
            r.mute_until,
            now,
            Notifiable {
                own: false,
                mentions_me,
                deleted: m.deleted_at.is_some(),
            },
        );
        if !notify {
            continue;
        }
        let preview = (r.previews != 0 && !m.content.is_empty())
            .then(|| m.content.chars().take(PREVIEW_CHARS).collect());
        let body = serde_json::to_string(&PushPayload::Message {
            room_id: m.room_id.clone(),
            message_id: m.message_id.clone(),
            seq: m.seq,
            sender_name: sender_name.clone(),
            preview,
        })
        .map_err(|e| AppError::internal("push payload", e))?;
        let urgent = room_type == RoomType::Direct || mentions_me;
        db::push::enqueue(
            &mut *conn,
            &Queued {
                push_id: new_id(),
                device_id: r.device_id,
                room_id: m.room_id.clone(),
                seq: m.seq,
                body,
                urgency: if urgent { "high" } else { "normal" }.to_owned(),
                topic: topic(&m.message_id),
                attempts: 0,
                created_at: now,
            },
            now,
        )
        .await?;
        queued += 1;
    }
    Ok(queued)
}

/// After the user's read pointer in a room moved to `seq`: a `read` push to
/// each of their devices that was pushed about the room.
pub async fn queue_read(state: &AppState, user_id: &str, room_id: &str, seq: i64) -> AppResult<()> {
    let mut conn = state.db.writer().acquire().await?;
    let devices = db::push::take_pushed(&mut conn, user_id, room_id).await?;
    if devices.is_empty() {
        return Ok(());
    }
    let now = now_ms();
    let body = serde_json::to_string(&PushPayload::Read {
        room_id: room_id.to_owned(),
        seq,
    })
    .map_err(|e| AppError::internal("push payload", e))?;
    for device_id in devices {
        db::push::enqueue(
            &mut conn,
            &Queued {
                push_id: new_id(),
                device_id,
                room_id: room_id.to_owned(),
                seq,
                body: body.clone(),
                urgency: "normal".to_owned(),
                topic: topic(&format!("read {room_id}")),
                attempts: 0,
                created_at: now,
            },
            now,
        )
        .await?;
    }
    state.push_service.wake.notify_one();
    Ok(())
}

/// Tells this node's worker that something was queued.
pub fn queued(state: &AppState) {
    state.push_service.wake.notify_one();
}

/// Runs this node's push worker until shutdown.
pub fn spawn_worker(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        loop {
            if state.shutdown.is_cancelled() {
                return;
            }
            match work(&state).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "push worker"),
            }
            tokio::select! {
                () = state.shutdown.cancelled() => return,
                () = state.push_service.wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    });
}

/// Claims and sends one batch; `true` when the batch was full (more may wait).
async fn work(state: &AppState) -> AppResult<bool> {
    let now = now_ms();
    // Held well past the longest a batch can take (its sends run at once,
    // each cut off at PUSH_TIMEOUT), so no other node sends it meanwhile.
    let timeout = i64::try_from(state.push_service.settings.timeout.as_millis()).unwrap_or(60_000);
    let batch = db::push::claim(
        state.db.writer(),
        state.db.kind,
        now,
        now + 2 * timeout + 10_000,
        CLAIM_BATCH,
    )
    .await?;
    let full = batch.len() as i64 == CLAIM_BATCH;
    let sends = batch.into_iter().map(|q| deliver(state, q));
    futures_util::future::join_all(sends).await;
    Ok(full)
}

/// How one push ended.
enum Outcome {
    /// The push service took it.
    Sent,
    /// The device is connected: it has the message live.
    Online,
    /// The user read the room (or left it) before the push went.
    Read,
    /// The subscription is dead (404/410, or unusable): it goes.
    Gone,
    /// Not taken for now (429, 5xx, no answer): later.
    Retry,
    /// Refused for good (another 4xx), or the subscription or the message
    /// went meanwhile.
    GiveUp,
}

impl Outcome {
    fn label(&self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::Online => "online",
            Outcome::Read => "read",
            Outcome::Gone => "gone",
            Outcome::Retry => "retry",
            Outcome::GiveUp => "given_up",
        }
    }
}

/// The wait before try `attempts + 1`: 1 s, 2 s, 4 s … at most a minute.
fn backoff_ms(attempts: i64) -> i64 {
    (1_000i64 << (attempts - 1).clamp(0, 6)).min(60_000)
}

async fn deliver(state: &AppState, q: Queued) {
    let outcome = match attempt(state, &q).await {
        Ok(o) => o,
        Err(e) => {
            tracing::warn!(error = %e, "push delivery");
            Outcome::Retry
        }
    };
    let now = now_ms();
    let retry_for =
        i64::try_from(state.push_service.settings.retry_for.as_millis()).unwrap_or(i64::MAX);
    let label = match outcome {
        Outcome::Retry if now - q.created_at >= retry_for => "expired",
        ref o => o.label(),
    };
    state.metrics.web_push(label);
    let db = state.db.writer();
    let result = match outcome {
        Outcome::Sent => {
            let message = serde_json::from_str::<PushPayload>(&q.body)
                .is_ok_and(|p| matches!(p, PushPayload::Message { .. }));
            if message
                && let Err(e) = db::push::mark_pushed(db, &q.device_id, &q.room_id, q.seq).await
            {
                tracing::warn!(error = %e, "push bookkeeping");
            }
            db::push::done(db, &q.push_id).await
        }
        Outcome::Online | Outcome::Read | Outcome::GiveUp => db::push::done(db, &q.push_id).await,
        Outcome::Gone => match db.acquire().await {
            Ok(mut c) => db::push::unsubscribe(&mut c, &q.device_id).await,
            Err(e) => Err(e),
        },
        Outcome::Retry if label == "expired" => db::push::done(db, &q.push_id).await,
        Outcome::Retry => {
            let attempts = q.attempts + 1;
            let jitter = i64::from(rand::random::<u16>() % 250);
            db::push::retry(
                db,
                &q.push_id,
                attempts,
                now + backoff_ms(attempts) + jitter,
            )
            .await
        }
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "push bookkeeping");
    }
}

/// One try at one push.
async fn attempt(state: &AppState, q: &Queued) -> AppResult<Outcome> {
    let Some(sub) = db::push::subscription(state.db.reader(), &q.device_id).await? else {
        return Ok(Outcome::GiveUp);
    };
    let payload: PushPayload =
        serde_json::from_str(&q.body).map_err(|e| AppError::internal("push payload", e))?;
    let is_read = matches!(payload, PushPayload::Read { .. });
    // Read on some device (or left) since it was queued: nothing to say.
    if !is_read {
        match db::push::read_seq(state.db.reader(), &sub.user_id, &q.room_id).await? {
            Some(read) if read < q.seq => {}
            _ => return Ok(Outcome::Read),
        }
        // Deleted since: nothing to notify about.
        if !db::push::message_stands(state.db.reader(), &q.room_id, q.seq).await? {
            return Ok(Outcome::GiveUp);
        }
    }
    // A device connected anywhere has the message live: no push.
    if state
        .bus
        .device_online(&state.hub, &sub.user_id, &sub.device_id)
        .await
        == Some(true)
    {
        return Ok(Outcome::Online);
    }
    let (Some(key), Some(auth)) = (public_key(&sub.p256dh), auth_secret(&sub.auth)) else {
        return Ok(Outcome::Gone);
    };
    let Ok(endpoint) = Url::parse(&sub.endpoint) else {
        return Ok(Outcome::Gone);
    };
    let body = web_push_native::encrypt(q.body.clone().into_bytes(), &key, &auth)
        .map_err(|e| AppError::internal("push encryption", e))?;
    let push = &state.push_service;
    let auth_header = push
        .vapid
        .authorization(&endpoint, now_ms() / 1000)
        .map_err(|e| AppError::internal("vapid", e))?;
    let mut headers = HeaderMap::new();
    headers.insert(
        "TTL",
        HeaderValue::from_static(if is_read { "3600" } else { "86400" }),
    );
    headers.insert(CONTENT_ENCODING, HeaderValue::from_static("aes128gcm"));
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(
        "Urgency",
        HeaderValue::from_static(if q.urgency == "high" {
            "high"
        } else {
            "normal"
        }),
    );
    if let Ok(t) = HeaderValue::from_str(&q.topic) {
        headers.insert("Topic", t);
    }
    if let Ok(a) = HeaderValue::from_str(&auth_header) {
        headers.insert(AUTHORIZATION, a);
    }
    Ok(
        match push
            .egress
            .post(endpoint, headers, body, push.settings.timeout)
            .await
        {
            Ok(200..=299) => Outcome::Sent,
            Ok(404 | 410) => Outcome::Gone,
            Ok(429 | 500..=599) => Outcome::Retry,
            Ok(other) => {
                tracing::warn!(status = other, device = %sub.device_id, "a push service refused a push");
                Outcome::GiveUp
            }
            Err(crate::egress::Refused::Address(_) | crate::egress::Refused::Scheme) => {
                Outcome::Gone
            }
            Err(e) => {
                tracing::debug!(error = %e, "push not delivered; will retry");
                Outcome::Retry
            }
        },
    )
}
