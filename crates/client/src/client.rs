//! `Client`: the API a UI (app, terminal, benchmark) uses.
//!
//! Reads come from the local store, so they work offline and at once. Sends,
//! edits and deletes go to the durable outbox first and are shown at once
//! (optimistic); the connection delivers them. Everything else (creating
//! rooms, history, receipts, typing, presence) needs the live connection.

pub mod community;
mod online;
mod push;
mod search;

pub use search::{MessageContext, SearchPage};

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use leetchat_protocol::http::{AuthResponse, LoginRequest, RegisterRequest};
use leetchat_protocol::{MessageType, Request, User};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::api::Api;
use crate::connection::{self, Command};
use crate::credentials::CredentialStore;
use crate::error::{Error, Result};
use crate::session::{Session, credentials_of};
use crate::shared::Shared;
use crate::store::Store;
use crate::store::outbox::Draft;
use crate::views::{ClientEvent, ConnectionState, MessageChange, MessageView, Origin, RoomView};

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

/// The background connection, while it runs.
struct Running {
    commands: mpsc::UnboundedSender<Command>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// The client core. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Shared>,
    running: Arc<Mutex<Option<Running>>>,
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
        let store = Arc::new(Store::open(&config.data_dir.join("store.db"))?);
        let mut session = None;
        if let (Some(server), Some(user)) = (store.meta("server")?, store.meta("user_name")?)
            && server == config.server
        {
            session = config.credentials.load(&server, &user).await?;
        }
        let session = Session::new(
            api.clone(),
            &config.server,
            config.data_dir.clone(),
            config.credentials.clone(),
            session,
        );
        Ok(Client {
            inner: Arc::new(Shared::new(config, api, store, session)),
            running: Arc::new(Mutex::new(None)),
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
        self.inner.session.credential_store().check().await
    }

    async fn signed_in(&self, auth: AuthResponse) -> Result<User> {
        let creds = credentials_of(&auth);
        let server = &self.inner.config.server;
        self.inner.session.start(creds).await?;
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
        Ok(auth.user)
    }

    /// Creates an account and signs this device in.
    pub async fn register(
        &self,
        user_name: &str,
        password: &str,
        display_name: Option<&str>,
    ) -> Result<User> {
        self.register_with_invite(user_name, password, display_name, None)
            .await
    }

    /// Creates an account with a server invite (what a server with
    /// `REGISTRATION=invite` asks for) and signs this device in.
    pub async fn register_with_invite(
        &self,
        user_name: &str,
        password: &str,
        display_name: Option<&str>,
        invite: Option<&str>,
    ) -> Result<User> {
        // Before the account exists: tokens that cannot be kept would leave
        // an account nobody can sign in to from here without a password.
        self.check_can_sign_in(user_name).await?;
        let auth = self
            .inner
            .api
            .register(&RegisterRequest {
                user_name: user_name.to_owned(),
                password: password.to_owned(),
                display_name: display_name.map(str::to_owned),
                device_name: Some(self.inner.config.device_name.clone()),
                invite_token: invite.map(str::to_owned),
            })
            .await?;
        // The check passed, yet keeping the tokens may still fail (a keyring
        // locked meanwhile): the account exists and its password works, so
        // say so, and a UI signs in to it rather than registering again.
        self.signed_in(auth).await.map_err(|e| match e {
            Error::Credentials(why) | Error::NoKeyring(why) => Error::AccountNotKept(why),
            other => other,
        })
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
        if let Some(c) = self.inner.session.take().await {
            if let Err(e) = self.inner.api.logout(&c.access_token).await {
                tracing::warn!(error = %e, "server sign-out failed; forgetting the tokens anyway");
            }
            self.inner.session.forget(&c.user_name).await?;
        }
        // The folder still belongs to this account (its data stays), but nobody is signed in.
        self.inner.store.set_meta("signed_in", "0")?;
        Ok(())
    }

    /// Changes as they happen.
    pub fn events(&self) -> broadcast::Receiver<ClientEvent> {
        self.inner.subscribe()
    }

    /// The connection state (offline, connecting, syncing, online, signed out).
    pub fn connection_state(&self) -> watch::Receiver<ConnectionState> {
        self.inner.watch_state()
    }

    /// Starts the background connection (reconnecting until stopped).
    pub fn start(&self) -> Result<()> {
        self.my_id()?;
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
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

    /// Sends a request on the live connection (started with [`Client::start`])
    /// and reads its ack. A server refusal is [`Error::Server`]; no live
    /// connection is [`Error::Offline`].
    pub async fn call<R: Request>(&self, req: &R) -> Result<R::Ack> {
        let tx = {
            let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
            running
                .as_ref()
                .map(|r| r.commands.clone())
                .ok_or(Error::Offline)?
        };
        let (reply, rx) = oneshot::channel();
        tx.send(Command {
            event: R::EVENT,
            data: serde_json::to_value(req)?,
            reply,
        })
        .map_err(|_| Error::Offline)?;
        let data = rx.await.map_err(|_| Error::Offline)??;
        Ok(serde_json::from_value(data)?)
    }

    // ------------------------------------------------------------- reads

    /// The user's default notification level, as the server last said.
    pub fn notify_default(&self) -> Result<leetchat_protocol::events::NotifyLevel> {
        self.inner.store.notify_default()
    }

    /// Every stored room, most recently active first.
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
        let draft = Draft {
            content: content.to_owned(),
            reply_to: reply_to.map(str::to_owned),
            ..Draft::default()
        };
        self.send_draft(room_id, &draft, message_type)
    }

    /// Queues a message with its reply and mentions. `reply_to` may be a
    /// server id, a tempId or a local id of a stored message of the room.
    pub fn send_draft(
        &self,
        room_id: &str,
        draft: &Draft,
        message_type: MessageType,
    ) -> Result<MessageView> {
        let content = &draft.content;
        if message_type == MessageType::Text && content.trim().is_empty() {
            return Err(Error::Invalid("a message needs some text".into()));
        }
        if content.chars().count() > leetchat_protocol::MAX_CONTENT_CHARS {
            return Err(Error::Invalid(format!(
                "a message has at most {} characters",
                leetchat_protocol::MAX_CONTENT_CHARS
            )));
        }
        if draft.mentions.len() > leetchat_protocol::MAX_MENTIONS {
            return Err(Error::Invalid(format!(
                "a message mentions at most {} people",
                leetchat_protocol::MAX_MENTIONS
            )));
        }
        let mut draft = draft.clone();
        if let Some(key) = &draft.reply_to {
            let target = self.inner.store.message_by_key(key)?;
            if target.room_id != room_id {
                return Err(Error::Invalid(
                    "a reply must answer a message of the same room".into(),
                ));
            }
            // The server knows it by its id; one still pending by its tempId
            // (it is sent first: the room's queue is in order).
            draft.reply_to = target.message_id.or(target.temp_id);
        }
        let m = self
            .inner
            .store
            .enqueue_send(&self.my_id()?, room_id, &draft, message_type)?;
        self.inner
            .emit_message(m.clone(), MessageChange::New, Origin::Local)?;
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
            .emit_message(m.clone(), MessageChange::New, Origin::Local)?;
        self.inner.outbox_changed.notify_one();
        Ok(m)
    }

    /// Edits one of the user's messages (by message id, tempId or local id).
    pub fn edit(&self, key: &str, content: &str) -> Result<MessageView> {
        self.edit_with_mentions(key, content, None)
    }

    /// Edits a message and, when `mentions` is given, whom it mentions.
    pub fn edit_with_mentions(
        &self,
        key: &str,
        content: &str,
        mentions: Option<&[String]>,
    ) -> Result<MessageView> {
        if content.trim().is_empty() {
            return Err(Error::Invalid("a message needs some text".into()));
        }
        let m = self
            .inner
            .store
            .enqueue_edit(&self.my_id()?, key, content, mentions)?;
        self.inner
            .emit_message(m.clone(), MessageChange::Edited, Origin::Local)?;
        self.inner.outbox_changed.notify_one();
        Ok(m)
    }

    /// Reacts to a message (by message id, tempId or local id), or takes the
    /// reaction back (`add: false`); shown at once, sent through the outbox.
    /// Toggling back before it was sent sends nothing.
    pub fn react(&self, key: &str, emoji: &str, add: bool) -> Result<MessageView> {
        let m = self
            .inner
            .store
            .enqueue_reaction(&self.my_id()?, key, emoji, add)?;
        self.inner
            .emit_message(m.clone(), MessageChange::Reactions, Origin::Local)?;
        self.inner.outbox_changed.notify_one();
        Ok(m)
    }

    /// Pins (or unpins) a sent message; shown at once, sent through the outbox.
    pub fn pin(&self, key: &str, pin: bool) -> Result<RoomView> {
        let me = self.my_id()?;
        let room_id = self.inner.store.enqueue_pin(&me, key, pin)?;
        let room =
            self.inner.store.room(&room_id, &me)?.ok_or_else(|| {
                Error::NotFound(format!("no room {room_id:?} in the local store"))
            })?;
        self.inner
            .emit(ClientEvent::RoomUpdated { room: room.clone() });
        self.inner.outbox_changed.notify_one();
        Ok(room)
    }

    /// Deletes a message (by message id, tempId or local id).
    pub fn delete(&self, key: &str) -> Result<()> {
        let before = self.inner.store.message_by_key(key)?;
        match self.inner.store.enqueue_delete(key)? {
            Some(m) => self
                .inner
                .emit_message(m, MessageChange::Deleted, Origin::Local)?,
            None => {
                // Withdrawn before it was tried: its files' copies go too.
                if let Some(temp_id) = &before.temp_id {
                    crate::files::remove_outbox_copies(&self.inner.config.data_dir, temp_id);
                }
                let room = self
                    .inner
                    .store
                    .room_counts(&before.room_id, &self.my_id()?)?;
                self.inner.emit(ClientEvent::MessageRemoved {
                    room_id: before.room_id.clone(),
                    local_id: before.local_id,
                    room,
                });
                // What was queued behind it no longer waits for it.
                for m in self.inner.store.pending_messages(&before.room_id)? {
                    self.inner
                        .emit_message(m, MessageChange::Delivery, Origin::Local)?;
                }
            }
        }
        self.inner.outbox_changed.notify_one();
        Ok(())
    }
}
