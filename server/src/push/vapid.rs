//! The server's VAPID identity (RFC 8292): a P-256 key pair, and the
//! `Authorization: vapid t=<JWT>, k=<public key>` header it signs for each
//! push service.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::EncodePrivateKey;
use serde::Serialize;
use std::path::Path;

use url::Url;

use crate::config::{keep_private_file, read_private_file};

use crate::db::{self, Db};

/// The name of the key in `server_keys`.
const KEY_NAME: &str = "vapid_private";
/// The file in DATA_DIR a node keeps its key in.
pub const KEY_FILE: &str = "vapid_private_key";
/// How long a signed header is valid (RFC 8292: at most 24 h).
const VALID_FOR_S: i64 = 12 * 3600;

/// Why the VAPID key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum VapidError {
    /// VAPID_PRIVATE_KEY (or the kept key) is not a P-256 scalar.
    #[error("{0} is not base64url of a 32-byte P-256 private key")]
    BadKey(String),
    /// This node's key is not the one the others (and the database's
    /// subscriptions) use.
    #[error(
        "{source_name} is not the VAPID key this database's push subscriptions were made with \
         (its public key is {recorded}). Every node must sign with the same key: remove \
         {file} to take the one in the database, or give every node the same VAPID_PRIVATE_KEY. \
         To move to a new key on purpose, see the README (every device must subscribe again)."
    )]
    Mismatch {
        /// Where this node's key came from.
        source_name: String,
        /// The file a node keeps its key in.
        file: String,
        /// The public key the database records.
        recorded: String,
    },
    /// The key file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The database could not be read or written.
    #[error("reading the VAPID key: {0}")]
    Database(#[from] sqlx::Error),
}

/// The server's VAPID key pair.
pub struct Vapid {
    encoding: EncodingKey,
    /// base64url of the uncompressed public point.
    public: String,
    subject: String,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vapid")
            .field("public", &self.public)
            .finish()
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    aud: String,
    exp: i64,
    sub: &'a str,
}

impl Vapid {
    /// The server's key: `VAPID_PRIVATE_KEY`, else `DATA_DIR/vapid_private_key`,
    /// else the one another node keeps in the database (written to that
    /// file), else a new one (written there and recorded in the database).
    /// A key that differs from the database's is refused: pushes signed
    /// with it would be rejected for every existing subscription.
    pub async fn load(
        db: &Db,
        given: Option<&str>,
        data_dir: &Path,
        subject: &str,
    ) -> Result<Vapid, VapidError> {
        let path = data_dir.join(KEY_FILE);
        let file_err = |source| VapidError::File {
            path: path.display().to_string(),
            source,
        };
        let (encoded, source_name) = if let Some(k) = given {
            (k.trim().to_owned(), "VAPID_PRIVATE_KEY".to_owned())
        } else {
            let kept = match read_private_file(&path).map_err(file_err)? {
                Some(bytes) => bytes,
                None => {
                    // Agreed in the database first (nodes starting together
                    // each offer one; the first stored holds), then kept.
                    let offered = URL_SAFE_NO_PAD.encode(new_secret().to_bytes());
                    db::push::keep_server_key(db.writer(), KEY_NAME, &offered).await?;
                    let agreed = db::push::server_key(db.writer(), KEY_NAME)
                        .await?
                        .unwrap_or(offered);
                    keep_private_file(&path, agreed.as_bytes()).map_err(file_err)?
                }
            };
            let kept = String::from_utf8_lossy(&kept).trim().to_owned();
            (kept, path.display().to_string())
        };
        let vapid = Vapid::from_base64(&encoded, subject)
            .map_err(|_| VapidError::BadKey(source_name.clone()))?;
        // The first key recorded holds (a key given or kept before the
        // database had one becomes it).
        db::push::keep_server_key(db.writer(), KEY_NAME, &encoded).await?;
        let recorded = db::push::server_key(db.writer(), KEY_NAME).await?;
        match recorded {
            Some(r) if r != encoded => {
                let public = Vapid::from_base64(&r, subject)
                    .map(|v| v.public)
                    .unwrap_or_else(|_| "unreadable".to_owned());
                Err(VapidError::Mismatch {
                    source_name,
                    file: path.display().to_string(),
                    recorded: public,
                })
            }
            _ => Ok(vapid),
        }
    }

    /// A key from base64url of its scalar.
    pub fn from_base64(encoded: &str, subject: &str) -> Result<Vapid, VapidError> {
        let bad = || VapidError::BadKey("the key".to_owned());
        let bytes = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| bad())?;
        let secret = p256::SecretKey::from_slice(&bytes).map_err(|_| bad())?;
        let der = secret.to_pkcs8_der().map_err(|_| bad())?;
        let public = URL_SAFE_NO_PAD.encode(
            secret
                .public_key()
                .as_affine()
                .to_encoded_point(false)
                .as_bytes(),
        );
        Ok(Vapid {
            encoding: EncodingKey::from_ec_der(der.as_bytes()),
            public,
            subject: subject.to_owned(),
        })
    }

    /// base64url of the public key, for `GET /api/push/vapid`.
    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// The `Authorization` header for a push to `endpoint` at `now_s`.
    pub fn authorization(
        &self,
        endpoint: &Url,
        now_s: i64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = Claims {
            aud: endpoint.origin().ascii_serialization(),
            exp: now_s + VALID_FOR_S,
            sub: &self.subject,
        };
        let jwt = jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &self.encoding)?;
        Ok(format!("vapid t={jwt}, k={}", self.public))
    }
}

/// A random P-256 secret key.
fn new_secret() -> p256::SecretKey {
    loop {
        // Nearly every 32 random bytes are a valid scalar; the rest retry.
        if let Ok(k) = p256::SecretKey::from_slice(&rand::random::<[u8; 32]>()) {
            return k;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_an_es256_jwt_for_the_endpoints_origin_with_the_public_key() {
        let key = URL_SAFE_NO_PAD.encode(new_secret().to_bytes());
        let v = Vapid::from_base64(&key, "mailto:ops@example.com").unwrap();
        let url = Url::parse("https://push.example.com:8443/wpush/v2/abc").unwrap();
        let h = v.authorization(&url, 1_000).unwrap();
        let (t, k) = h
            .strip_prefix("vapid t=")
            .and_then(|r| r.split_once(", k="))
            .unwrap();
        assert_eq!(k, v.public_key());
        assert_eq!(URL_SAFE_NO_PAD.decode(k).unwrap().len(), 65);
        // Verified with the public key, as a push service would.
        let point = URL_SAFE_NO_PAD.decode(k).unwrap();
        assert!(p256::PublicKey::from_sec1_bytes(&point).is_ok());
        let mut validation = jsonwebtoken::Validation::new(Algorithm::ES256);
        validation.set_audience(&["https://push.example.com:8443"]);
        validation.validate_exp = false;
        let data = jsonwebtoken::decode::<serde_json::Value>(
            t,
            &jsonwebtoken::DecodingKey::from_ec_components(
                &URL_SAFE_NO_PAD.encode(&point[1..33]),
                &URL_SAFE_NO_PAD.encode(&point[33..]),
            )
            .unwrap(),
            &validation,
        )
        .unwrap();
        assert_eq!(data.claims["sub"], "mailto:ops@example.com");
        assert_eq!(data.claims["exp"], 1_000 + VALID_FOR_S);
        assert!(Vapid::from_base64("not a key", "x").is_err());
    }
}
