//! What the [`crate::Client`] API and the connection task share: the store,
//! the session, the HTTP client, and the channels that tell UIs what changed.

use std::sync::Arc;

use tokio::sync::{Notify, broadcast, watch};

use crate::api::Api;
use crate::client::ClientConfig;
use crate::error::Result;
use crate::session::Session;
use crate::store::Store;
use crate::views::{ClientEvent, ConnectionState, MessageChange, MessageView, Origin};

/// The parts of a client.
pub(crate) struct Shared {
    /// How it was set up.
    pub(crate) config: ClientConfig,
    /// The server's HTTP side.
    pub(crate) api: Api,
    /// The local store (the connection's engine holds it too).
    pub(crate) store: Arc<Store>,
    /// The tokens.
    pub(crate) session: Session,
    /// Changes, for UIs.
    events: broadcast::Sender<ClientEvent>,
    /// The connection state, for UIs.
    state: watch::Sender<ConnectionState>,
    /// Wakes the connection when something was queued.
    pub(crate) outbox_changed: Notify,
}

impl Shared {
    /// Assembles the parts.
    pub(crate) fn new(
        config: ClientConfig,
        api: Api,
        store: Arc<Store>,
        session: Session,
    ) -> Shared {
        let (events, _) = broadcast::channel(4096);
        let (state, _) = watch::channel(ConnectionState::Offline);
        Shared {
            config,
            api,
            store,
            session,
            events,
            state,
            outbox_changed: Notify::new(),
        }
    }

    /// The signed-in user's id, if any.
    pub(crate) fn my_id(&self) -> Option<String> {
        self.store.meta("user_id").ok().flatten()
    }

    /// Sets the connection state, announcing a change.
    pub(crate) fn set_state(&self, s: ConnectionState) {
        if *self.state.borrow() != s {
            self.state.send_replace(s);
            self.emit(ClientEvent::Connection { state: s });
        }
    }

    /// Tells UIs about a change.
    pub(crate) fn emit(&self, e: ClientEvent) {
        let _ = self.events.send(e);
    }

    /// Tells UIs a message changed, with its room's numbers after the change.
    pub(crate) fn emit_message(
        &self,
        message: MessageView,
        change: MessageChange,
        origin: Origin,
    ) -> Result<()> {
        let me = self.my_id().unwrap_or_default();
        let e = crate::engine::apply::message_event(&self.store, &me, message, change, origin)?;
        self.emit(e);
        Ok(())
    }

    /// New subscribers to the changes.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<ClientEvent> {
        self.events.subscribe()
    }

    /// New watchers of the connection state.
    pub(crate) fn watch_state(&self) -> watch::Receiver<ConnectionState> {
        self.state.subscribe()
    }
}
