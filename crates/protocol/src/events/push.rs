//! Web Push (protocol 9.6): a device's subscription, and what the pushes
//! that reach it say once decrypted.

use serde::{Deserialize, Serialize};

/// The subscription's keys, as the browser's `PushSubscription` (or a
/// UnifiedPush distributor) gives them: base64url without padding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushKeys {
    /// The device's P-256 public key, the uncompressed point (65 bytes).
    pub p256dh: String,
    /// The device's authentication secret (16 bytes).
    pub auth: String,
}

/// `push.register` (v1.1): the calling device's one subscription.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterPush {
    /// The push service's endpoint for this device (https, RFC 8030).
    pub endpoint: String,
    /// The keys its payloads are encrypted to (RFC 8291).
    pub keys: PushKeys,
    /// Whether the payloads may carry the first words of a message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previews: Option<bool>,
}

/// `push.unregister` (v1.1): the calling device's subscription goes.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct UnregisterPush {}

/// What a push says once decrypted (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum PushPayload {
    /// A message that notifies the user.
    #[serde(rename_all = "camelCase")]
    Message {
        /// Its room.
        room_id: String,
        /// The message.
        message_id: String,
        /// Its seq.
        seq: i64,
        /// Who sent it (shown name).
        sender_name: String,
        /// Its first 100 characters, only for devices that asked.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        preview: Option<String>,
    },
    /// The user read a room up to `seq` elsewhere: clear its notifications.
    #[serde(rename_all = "camelCase")]
    Read {
        /// The room.
        room_id: String,
        /// The read pointer.
        seq: i64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_the_contracts_json() {
        let m = PushPayload::Message {
            room_id: "r".into(),
            message_id: "m".into(),
            seq: 4,
            sender_name: "Bob".into(),
            preview: None,
        };
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            serde_json::json!({"type": "message", "roomId": "r", "messageId": "m", "seq": 4, "senderName": "Bob"})
        );
        let r = PushPayload::Read {
            room_id: "r".into(),
            seq: 9,
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"type": "read", "roomId": "r", "seq": 9})
        );
    }
}
