//! Web Push for a device that is not connected (protocol 9.6): this
//! device's push keys, registering the endpoint a platform's push
//! distributor gives it (UnifiedPush on Android; on iOS, a gateway to APNs),
//! and opening what arrives into what to show.
//!
//! The keys are made once per signed-in store and kept in it (a push is
//! opened by the same process that may be started only for it, with the
//! store but no connection). The private key never leaves the device: the
//! server gets the public key and the auth secret, and pushes are encrypted
//! to them (RFC 8291).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use leetchat_protocol::events::{PushKeys, PushPayload};
use p256::elliptic_curve::sec1::ToEncodedPoint;

use crate::error::{Error, Result};

/// Where the keys are kept in the store's meta table.
pub(crate) const KEYS_META: &str = "push_keys";
/// The endpoint registered last.
pub(crate) const ENDPOINT_META: &str = "push_endpoint";

/// What a push asks the device to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushNotice {
    /// Show (or replace) the room's notification.
    Show {
        /// The room's notification id ([`crate::notify::notification_id`]),
        /// the one the running app uses too.
        id: i32,
        /// The room: what a tap opens.
        room_id: String,
        /// The message.
        message_id: String,
        /// `Bob`, or `Bob in team` when the room is known here.
        title: String,
        /// The first words, as plain text; `New message` without a preview.
        body: String,
    },
    /// The room was read on another device: take its notification back.
    Withdraw {
        /// The room's notification id.
        id: i32,
        /// The room.
        room_id: String,
        /// The read pointer.
        seq: i64,
    },
}

/// A device's push key pair and auth secret.
pub struct DeviceKeys {
    secret: p256::SecretKey,
    auth: [u8; 16],
}

impl std::fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceKeys")
            .field("public", &self.public().p256dh)
            .finish()
    }
}

impl DeviceKeys {
    /// New random keys.
    pub fn generate() -> DeviceKeys {
        let secret = loop {
            // Nearly every 32 random bytes are a valid scalar; the rest retry.
            if let Ok(k) = p256::SecretKey::from_slice(&rand::random::<[u8; 32]>()) {
                break k;
            }
        };
        DeviceKeys {
            secret,
            auth: rand::random(),
        }
    }

    /// What the server is given: the public key and the auth secret.
    pub fn public(&self) -> PushKeys {
        let point = self.secret.public_key().as_affine().to_encoded_point(false);
        PushKeys {
            p256dh: URL_SAFE_NO_PAD.encode(point.as_bytes()),
            auth: URL_SAFE_NO_PAD.encode(self.auth),
        }
    }

    /// `secret.auth`, base64url, as kept in the store.
    pub(crate) fn encode(&self) -> String {
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(self.secret.to_bytes()),
            URL_SAFE_NO_PAD.encode(self.auth)
        )
    }

    pub(crate) fn decode(s: &str) -> Option<DeviceKeys> {
        let (secret, auth) = s.split_once('.')?;
        let secret = p256::SecretKey::from_slice(&URL_SAFE_NO_PAD.decode(secret).ok()?).ok()?;
        let auth = URL_SAFE_NO_PAD.decode(auth).ok()?.try_into().ok()?;
        Some(DeviceKeys { secret, auth })
    }

    /// Decrypts a push body (RFC 8291, `aes128gcm`) and reads its payload.
    pub fn open(&self, body: &[u8]) -> Result<PushPayload> {
        let plain = web_push_native::decrypt(
            body.to_vec(),
            &self.secret,
            &web_push_native::Auth::from(self.auth),
        )
        .map_err(|e| {
            Error::Invalid(format!(
                "a push that does not decrypt with this device's keys: {e:?}"
            ))
        })?;
        serde_json::from_slice(&plain)
            .map_err(|e| Error::Invalid(format!("a push whose payload is not the contract's: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_survive_being_kept_and_open_what_was_encrypted_to_them() {
        let k = DeviceKeys::generate();
        let again = DeviceKeys::decode(&k.encode()).unwrap();
        assert_eq!(again.public(), k.public());
        let public = k.public();
        assert_eq!(URL_SAFE_NO_PAD.decode(&public.p256dh).unwrap().len(), 65);
        assert_eq!(URL_SAFE_NO_PAD.decode(&public.auth).unwrap().len(), 16);
        let body = web_push_native::encrypt(
            br#"{"type":"read","roomId":"r","seq":3}"#.to_vec(),
            &k.secret.public_key(),
            &web_push_native::Auth::from(k.auth),
        )
        .unwrap();
        assert_eq!(
            again.open(&body).unwrap(),
            PushPayload::Read {
                room_id: "r".into(),
                seq: 3
            }
        );
        // Another device's keys do not open it, and say so.
        assert!(DeviceKeys::generate().open(&body).is_err());
        assert!(DeviceKeys::decode("nonsense").is_none());
    }
}
