//! The device's Web Push (protocol 9.6): see [`crate::push`].

use leetchat_protocol::events::{PushPayload, RegisterPush, UnregisterPush};

use super::Client;
use crate::error::Result;
use crate::push::{DeviceKeys, ENDPOINT_META, KEYS_META, PushNotice};
use crate::{markdown, notify};

impl Client {
    /// This device's push keys, made and kept on first use.
    pub fn push_keys(&self) -> Result<DeviceKeys> {
        let store = &self.inner.store;
        if let Some(k) = store
            .meta(KEYS_META)?
            .as_deref()
            .and_then(DeviceKeys::decode)
        {
            return Ok(k);
        }
        let k = DeviceKeys::generate();
        store.set_meta(KEYS_META, &k.encode())?;
        Ok(k)
    }

    /// Registers the endpoint the platform's push distributor gave this
    /// device (replacing any earlier one). `previews`: pushes may carry the
    /// first words of a message (they pass through the push service,
    /// encrypted). Needs the connection.
    pub async fn register_push(&self, endpoint: &str, previews: bool) -> Result<()> {
        let keys = self.push_keys()?.public();
        self.call(&RegisterPush {
            endpoint: endpoint.to_owned(),
            keys,
            previews: Some(previews),
        })
        .await?;
        self.inner.store.set_meta(ENDPOINT_META, endpoint)?;
        Ok(())
    }

    /// This device is pushed nothing more (the distributor dropped it, or
    /// the user turned pushes off). Needs the connection.
    pub async fn unregister_push(&self) -> Result<()> {
        self.call(&UnregisterPush {}).await?;
        self.inner.store.delete_meta(ENDPOINT_META)?;
        Ok(())
    }

    /// The endpoint registered last on this store, if any.
    pub fn push_endpoint(&self) -> Result<Option<String>> {
        self.inner.store.meta(ENDPOINT_META)
    }

    /// Opens a push that arrived for this device: what to show or take
    /// back. Works without a connection (the store alone names the room).
    pub fn open_push(&self, body: &[u8]) -> Result<PushNotice> {
        Ok(match self.push_keys()?.open(body)? {
            PushPayload::Message {
                room_id,
                message_id,
                sender_name,
                preview,
                ..
            } => {
                let room = self.room(&room_id)?;
                let body = preview
                    .map(|p| markdown::one_line(&p))
                    .filter(|p| !p.is_empty())
                    .unwrap_or_else(|| "New message".to_owned());
                PushNotice::Show {
                    id: notify::notification_id(&room_id),
                    title: notify::title(&sender_name, room.as_ref()),
                    room_id,
                    message_id,
                    body,
                }
            }
            PushPayload::Read { room_id, seq } => PushNotice::Withdraw {
                id: notify::notification_id(&room_id),
                room_id,
                seq,
            },
        })
    }
}
