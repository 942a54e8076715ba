//! `Client`: the API a UI (app, terminal, benchmark) uses.
//!
//! Reads come from the local store, so they work offline and at once. Sends,
//! edits and deletes go to the durable outbox first and are shown at once
//! (optimistic); the connection delivers them. Everything else (creating
//! rooms, history, receipts, typing, presence) needs the live connection.

mod online;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use leetchat_protocol::events::HistoryPage;
use leetchat_protocol::http::{AuthResponse, LoginRequest, RegisterRequest};
use leetchat_protocol::{MessageType, User};
use serde_json::Value;
use tokio::sync::{Notify, broadcast, mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::api::Api;
use crate::connection::{self, Command};
use crate::credentials::{CredentialStore, Credentials, RefreshLock};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::views::{ClientEvent, ConnectionState, MessageView, RoomView};

/// How to set a client up.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The server, e.g. `http://localhost:3001`.
    pub server: String,
    /// Where the store (and, with the file store, the tokens) live.
    pub data_dir: PathBuf,
    /// Where tokens are kept.
    pub credentials: CredentialStore,
    /// Shown in the account's device list.
    pub device_name: String,
}

/// The signed-in account of a data folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Me {
    /// Id.
    pub user_id: String,
    /// Login name.
    pub user_name: String,
}

/// Shared parts, also used by the connection task.
pub(crate) struct Inner {
    pub(crate) config: ClientConfig,
    pub(crate) api: Api,
    pub(crate) store: Store,
    session: tokio::sync::Mutex<Option<Credentials>>,
    stale_token: AtomicBool,
    events: broadcast::Sender<ClientEvent>,
    state: watch::Sender<ConnectionState>,
    pub(crate) outbox_changed: Notify,
    running: Mutex<Option<Running>>,
}

struct Running {
    commands: mpsc::UnboundedSender<Command>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// How long before expiry a token is renewed: a quarter of its life, at most 60 s.
fn margin(c: &Credentials) -> u64 {
    (c.access_lifetime / 4).clamp(1, 60)
}

impl Inner {
    pub(crate) fn set_state(&self, s: ConnectionState) {
        if *self.state.borrow() != s {
            self.state.send_replace(s);
            self.emit(ClientEvent::Connection { state: s });
        }
    }

    pub(crate) fn emit(&self, e: ClientEvent) {
        let _ = self.events.send(e);
    }

    /// Marks the access token as refused: the next use refreshes it.
    pub(crate) fn expire_access_token(&self) {
        self.stale_token.store(true, Ordering::SeqCst);
    }

    /// When the live socket should renew its token.
    pub(crate) async fn renewal_due(&self) -> Instant {
        let s = self.session.lock().await;
        match s.as_ref() {
            Some(c) => {
                let at = c.access_expires_at.saturating_sub(margin(c));
                Instant::now() + Duration::from_secs(at.saturating_sub(unix_now()).max(1))
            }
            None => Instant::now() + Duration::from_secs(3600),
        }
    }

    /// A valid access token, refreshed first when close to expiry (or when
    /// `force`). Refreshes are serialised across processes by a lock file.
    pub(crate) async fn access_token(&self, force: bool) -> Result<String> {
        let mut s = self.session.lock().await;
        let current = s.clone().ok_or(Error::NotSignedIn)?;
        let force = force || self.stale_token.swap(false, Ordering::SeqCst);
        if !force && current.access_expires_at > unix_now() + margin(&current) {
            return Ok(current.access_token);
        }
        let _lock = RefreshLock::acquire(&self.config.data_dir).await?;
        let server = &self.config.server;
        let mut c = current.clone();
        if let Some(stored) = self
            .config
            .credentials
            .load(server, &current.user_name)
            .await?
        {
            if stored.access_token != current.access_token
                && stored.access_expires_at > unix_now() + margin(&stored)
            {
                // Another process refreshed while we waited for the lock.
                *s = Some(stored.clone());
                return Ok(stored.access_token);
            }
            c = stored;
        }
        match self.api.refresh(&c.refresh_token).await {
            Ok(r) => {
                let lifetime = r.expires_in.unwrap_or(900);
                let fresh = Credentials {
                    access_token: r.access_token,
                    refresh_token: r.refresh_token,
                    access_expires_at: unix_now() + lifetime,
                    access_lifetime: lifetime,
                    ..c
                };
                self.config.credentials.save(server, &fresh).await?;
                let token = fresh.access_token.clone();
                *s = Some(fresh);
                Ok(token)
            }
            Err(Error::Server(b)) if b.code == leetchat_protocol::ErrorCode::Unauthenticated => {
                Err(Error::SignedOut(b.message))
            }
            Err(e) => Err(e),
        }
    }
}

/// Stores a history page's messages; a page going back marks whether older exist.
pub(crate) fn absorb_history(inner: &Inner, room_id: &str, page: &Value) -> Result<usize> {
    let page: HistoryPage = serde_json::from_value(page.clone())?;
    for m in &page.messages {
        let view = inner.store.apply_message(m)?;
        inner.emit(ClientEvent::MessageUpserted { message: view });
    }
    inner.store.set_has_older(room_id, page.has_more)?;
    Ok(page.messages.len())
}

/// The client core. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.inner.config.server)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Opens the store in `data_dir` and the signed-in account's tokens, if any.
    pub async fn open(config: ClientConfig) -> Result<Client> {
        let api = Api::new(&config.server)?;
        let store = Store::open(&config.data_dir.join("store.db"))?;
        let mut session = None;
        if let (Some(server), Some(user)) = (store.meta("server")?, store.meta("user_name")?)
            && server == config.server
        {
            session = config.credentials.load(&server, &user).await?;
        }
        let (events, _) = broadcast::channel(4096);
        let (state, _) = watch::channel(ConnectionState::Offline);
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                api,
                store,
                session: tokio::sync::Mutex::new(session),
                stale_token: AtomicBool::new(false),
                events,
                state,
                outbox_changed: Notify::new(),
                running: Mutex::new(None),
            }),
        })
    }

    /// The server this client talks to.
    pub fn server(&self) -> &str {
        &self.inner.config.server
    }

    /// The signed-in account, if any.
    pub fn me(&self) -> Option<Me> {
        let s = &self.inner.store;
        match (
            s.meta("user_id").ok()?,
            s.meta("user_name").ok()?,
            s.meta("server").ok()?,
        ) {
            (Some(user_id), Some(user_name), Some(server))
                if server == self.inner.config.server =>
            {
                Some(Me { user_id, user_name })
            }
            _ => None,
        }
    }

    fn my_id(&self) -> Result<String> {
        self.me().map(|m| m.user_id).ok_or(Error::NotSignedIn)
    }

    /// Refuses to sign in where the result could not be kept: a data folder
    /// of another account or server, or no place for the tokens.
    async fn check_can_sign_in(&self, user_name: &str) -> Result<()> {
        let store = &self.inner.store;
        let server = &self.inner.config.server;
        if store.meta("server")?.is_some_and(|s| s != *server)
            || store
                .meta("user_name")?
                .is_some_and(|u| !u.eq_ignore_ascii_case(user_name))
        {
            return Err(Error::Invalid(
                "this data folder belongs to another account or server; use another --data-dir"
                    .into(),
            ));
        }
        self.inner.config.credentials.check().await
    }

    async fn signed_in(&self, auth: AuthResponse) -> Result<User> {
        let lifetime = auth.expires_in.unwrap_or(900);
        let creds = Credentials {
            user_id: auth.user.user_id.clone(),
            user_name: auth.user.user_name.clone(),
            device_id: auth.device_id,
            access_token: auth.access_token,
            access_expires_at: unix_now() + lifetime,
            access_lifetime: lifetime,
            refresh_token: auth.refresh_token,
        };
        let server = &self.inner.config.server;
        self.inner.config.credentials.save(server, &creds).await?;
        let store = &self.inner.store;
        if store
            .meta("user_id")?
            .is_some_and(|id| id != auth.user.user_id)
            || store.meta("server")?.is_some_and(|s| s != *server)
        {
            return Err(Error::Invalid(
                "this data folder belongs to another account or server; use another --data-dir"
                    .into(),
            ));
        }
        store.set_meta("server", server)?;
        store.set_meta("user_id", &auth.user.user_id)?;
        store.set_meta("user_name", &auth.user.user_name)?;
        store.set_meta("signed_in", "1")?;
        store.apply_users(std::slice::from_ref(&auth.user))?;
        *self.inner.session.lock().await = Some(creds);
        Ok(auth.user)
    }

    /// Creates an account and signs this device in.
    pub async fn register(
        &self,
        user_name: &str,
        password: &str,
        display_name: Option<&str>,
    ) -> Result<User> {
        let auth = self
            .inner
            .api
            .register(&RegisterRequest {
                user_name: user_name.to_owned(),
                password: password.to_owned(),
                display_name: display_name.map(str::to_owned),
                device_name: Some(self.inner.config.device_name.clone()),
            })
            .await?;
        self.signed_in(auth).await
    }

    /// Signs this device in.
    pub async fn login(&self, user_name: &str, password: &str) -> Result<User> {
        self.check_can_sign_in(user_name).await?;
        let auth = self
            .inner
            .api
            .login(&LoginRequest {
                user_name: user_name.to_owned(),
                password: password.to_owned(),
                device_name: Some(self.inner.config.device_name.clone()),
            })
            .await?;
        self.signed_in(auth).await
    }

    /// Signs this device out (on the server when reachable) and forgets its tokens.
    pub async fn logout(&self) -> Result<()> {
        self.stop().await;
        let creds = self.inner.session.lock().await.take();
        if let Some(c) = creds {
            if let Err(e) = self.inner.api.logout(&c.access_token).await {
                tracing::warn!(error = %e, "server sign-out failed; forgetting the tokens anyway");
            }
            self.inner
                .config
                .credentials
                .delete(&self.inner.config.server, &c.user_name)
                .await?;
        }
        // The folder still belongs to this account (its data stays), but nobody is signed in.
        self.inner.store.set_meta("signed_in", "0")?;
        Ok(())
    }

    /// Changes as they happen.
    pub fn events(&self) -> broadcast::Receiver<ClientEvent> {
        self.inner.events.subscribe()
    }

    /// The connection state (offline, connecting, syncing, online, signed out).
    pub fn connection_state(&self) -> watch::Receiver<ConnectionState> {
        self.inner.state.subscribe()
    }

    /// Starts the background connection (reconnecting until stopped).
    pub fn start(&self) -> Result<()> {
        self.my_id()?;
        let mut running = self.inner.running.lock().unwrap_or_else(|p| p.into_inner());
        if running.as_ref().is_some_and(|r| !r.task.is_finished()) {
            return Ok(());
        }
        let (commands, rx) = mpsc::unbounded_channel();
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(connection::run(self.inner.clone(), rx, stop_rx));
        *running = Some(Running {
            commands,
            stop,
            task,
        });
        Ok(())
    }

    /// Stops the background connection and waits for it.
    pub async fn stop(&self) {
        let running = self
            .inner
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(r) = running {
            let _ = r.stop.send(true);
            let _ = tokio::time::timeout(Duration::from_secs(5), r.task).await;
        }
    }

    /// Waits until the connection is live, at most `wait`.
    pub async fn wait_online(&self, wait: Duration) -> Result<()> {
        let mut rx = self.connection_state();
        let r = tokio::time::timeout(wait, async {
            loop {
                match *rx.borrow_and_update() {
                    ConnectionState::Online => return Ok(()),
                    ConnectionState::SignedOut => {
                        return Err(Error::SignedOut("session ended".into()));
                    }
                    _ => {}
                }
                if rx.changed().await.is_err() {
                    return Err(Error::Offline);
                }
            }
        })
        .await;
        r.unwrap_or(Err(Error::Offline))
    }

    /// Connects once in the foreground: catches up, sends the outbox, disconnects.
    pub async fn sync_once(&self) -> Result<()> {
        self.my_id()?;
        connection::run_once(&self.inner).await
    }

    /// Sends a request on the live connection (started with [`Client::start`]).
    pub async fn request(&self, event: &str, data: Value) -> Result<Value> {
        let tx = {
            let running = self.inner.running.lock().unwrap_or_else(|p| p.into_inner());
            running
                .as_ref()
                .map(|r| r.commands.clone())
                .ok_or(Error::Offline)?
        };
        let (reply, rx) = oneshot::channel();
        tx.send(Command {
            event: event.to_owned(),
            data,
            reply,
        })
        .map_err(|_| Error::Offline)?;
        rx.await.map_err(|_| Error::Offline)?
    }

    // ------------------------------------------------------------- reads

    /// Every room, most recently active first.
    pub fn rooms(&self) -> Result<Vec<RoomView>> {
        self.inner.store.rooms(&self.my_id()?)
    }

    /// One room.
    pub fn room(&self, room_id: &str) -> Result<Option<RoomView>> {
        self.inner.store.room(room_id, &self.my_id()?)
    }

    /// A page of a room's stored messages (newest when `before_seq` is None).
    pub fn messages(
        &self,
        room_id: &str,
        before_seq: Option<i64>,
        limit: i64,
    ) -> Result<Vec<MessageView>> {
        self.inner.store.messages(room_id, before_seq, limit)
    }

    /// One stored message, by server id, tempId or local id.
    pub fn message(&self, key: &str) -> Result<MessageView> {
        self.inner.store.message_by_key(key)
    }

    /// Full-text search over stored messages.
    pub fn search(&self, text: &str, limit: i64) -> Result<Vec<MessageView>> {
        self.inner.store.search(text, limit)
    }

    /// Items waiting in the outbox.
    pub fn outbox_len(&self) -> Result<i64> {
        self.inner.store.outbox_len()
    }

    /// The store (benchmarks and tests).
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    // ------------------------------------------------------------- outbox

    /// Queues a text message; it shows at once as pending.
    pub fn send_text(&self, room_id: &str, content: &str) -> Result<MessageView> {
        self.send(room_id, content, MessageType::Text, None)
    }

    /// Queues a message of any sendable type.
    pub fn send(
        &self,
        room_id: &str,
        content: &str,
        message_type: MessageType,
        reply_to: Option<&str>,
    ) -> Result<MessageView> {
        if message_type == MessageType::Text && content.trim().is_empty() {
            return Err(Error::Invalid("a message needs some text".into()));
        }
        if content.chars().count() > leetchat_protocol::MAX_CONTENT_CHARS {
            return Err(Error::Invalid(format!(
                "a message has at most {} characters",
                leetchat_protocol::MAX_CONTENT_CHARS
            )));
        }
        let m = self.inner.store.enqueue_send(
            &self.my_id()?,
            room_id,
            content,
            message_type,
            reply_to,
        )?;
        self.inner
            .emit(ClientEvent::MessageUpserted { message: m.clone() });
        self.inner.outbox_changed.notify_one();
        Ok(m)
    }

    /// Queues a file (an image when its name says png, jpeg, gif or webp,
    /// else a file) with an optional caption; it shows at once as pending,
    /// with a local preview of the file in `attachments`.
    ///
    /// The file is first copied into the data folder, so moving or deleting
    /// the original, or killing the process, loses nothing: the connection
    /// uploads the copy (see [`ClientEvent::UploadProgress`]), then sends the
    /// message, and removes the copy once the message is acked or refused.
    pub async fn send_file(
        &self,
        room_id: &str,
        path: &std::path::Path,
        caption: &str,
    ) -> Result<MessageView> {
        let me = self.my_id()?;
        if caption.chars().count() > leetchat_protocol::MAX_CONTENT_CHARS {
            return Err(Error::Invalid(format!(
                "a caption has at most {} characters",
                leetchat_protocol::MAX_CONTENT_CHARS
            )));
        }
        let meta = tokio::fs::metadata(path)
            .await
            .map_err(|e| Error::File(format!("{}: {e}", path.display())))?;
        if !meta.is_file() {
            return Err(Error::File(format!("{} is not a file", path.display())));
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| Error::File(format!("{} has no file name", path.display())))?;
        // Checked before copying, so an unknown room leaves no copy behind.
        if self.inner.store.synced_seq(room_id)?.is_none() {
            return Err(Error::NotFound(format!(
                "no room {room_id:?} in the local store"
            )));
        }
        let message_type = if crate::files::looks_like_image(&name) {
            MessageType::Image
        } else {
            MessageType::File
        };
        let data_dir = &self.inner.config.data_dir;
        let temp_id = crate::store::outbox::new_temp_id();
        let (copy, size) = crate::files::copy_into_outbox(data_dir, &temp_id, path, &name).await?;
        let file = crate::store::outbox::QueuedFile {
            path: copy,
            mime: crate::files::mime_of_name(&name).to_owned(),
            name,
            size,
        };
        let queued = self.inner.store.enqueue_file_send(
            &me,
            room_id,
            caption,
            message_type,
            &temp_id,
            std::slice::from_ref(&file),
        );
        let m = match queued {
            Ok(m) => m,
            Err(e) => {
                crate::files::remove_outbox_copies(data_dir, &temp_id);
                return Err(e);
            }
        };
        self.inner
            .emit(ClientEvent::MessageUpserted { message: m.clone() });
        self.inner.outbox_changed.notify_one();
        Ok(m)
    }

    /// Edits one of the user's messages (by message id, tempId or local id).
    pub fn edit(&self, key: &str, content: &str) -> Result<MessageView> {
        if content.trim().is_empty() {
            return Err(Error::Invalid("a message needs some text".into()));
        }
        let m = self
            .inner
            .store
            .enqueue_edit(&self.my_id()?, key, content)?;
        self.inner
            .emit(ClientEvent::MessageUpserted { message: m.clone() });
        self.inner.outbox_changed.notify_one();
        Ok(m)
    }

    /// Deletes a message (by message id, tempId or local id).
    pub fn delete(&self, key: &str) -> Result<()> {
        let before = self.inner.store.message_by_key(key)?;
        match self.inner.store.enqueue_delete(key)? {
            Some(m) => self.inner.emit(ClientEvent::MessageUpserted { message: m }),
            None => {
                // Withdrawn before it was tried: its files' copies go too.
                if let Some(temp_id) = &before.temp_id {
                    crate::files::remove_outbox_copies(&self.inner.config.data_dir, temp_id);
                }
                self.inner.emit(ClientEvent::MessageRemoved {
                    room_id: before.room_id,
                    local_id: before.local_id,
                })
            }
        }
        self.inner.outbox_changed.notify_one();
        Ok(())
    }
}
