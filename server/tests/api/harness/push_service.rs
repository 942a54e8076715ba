//! A Web Push service for the tests (RFC 8030's receiving end) on
//! 127.0.0.1, and a device's push keys: it records every POST, answers each
//! endpoint as the test says, and opens the payloads with the device's keys.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use serde_json::{Value, json};

/// One POST the service received.
#[derive(Debug, Clone)]
pub struct Got {
    /// Header names (lower case) and values.
    pub headers: HashMap<String, String>,
    /// The encrypted body.
    pub body: Vec<u8>,
    /// What the service answered.
    pub status: u16,
}

impl Got {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }
}

#[derive(Default)]
struct Inner {
    got: HashMap<String, Vec<Got>>,
    /// Answers to give next, per endpoint, before the standing one.
    script: HashMap<String, VecDeque<u16>>,
    /// The answer per endpoint once the script is used up (default 201).
    standing: HashMap<String, u16>,
    /// How long each endpoint takes to answer.
    slow: HashMap<String, Duration>,
}

/// The push service.
pub struct PushService {
    pub port: u16,
    inner: Arc<Mutex<Inner>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for PushService {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let delay = inner.lock().unwrap().slow.get(&name).copied();
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    let mut i = inner.lock().unwrap();
    let scripted = i.script.get_mut(&name).and_then(VecDeque::pop_front);
    let status = scripted.unwrap_or_else(|| i.standing.get(&name).copied().unwrap_or(201));
    let headers = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    i.got.entry(name).or_default().push(Got {
        headers,
        body: body.to_vec(),
        status,
    });
    StatusCode::from_u16(status).unwrap()
}

impl PushService {
    pub async fn start() -> PushService {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let inner: Arc<Mutex<Inner>> = Arc::default();
        let router = axum::Router::new()
            .route("/push/{name}", post(receive))
            .with_state(inner.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        PushService { port, inner, task }
    }

    /// The origin (the VAPID audience).
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The endpoint called `name`.
    pub fn endpoint(&self, name: &str) -> String {
        format!("{}/push/{name}", self.origin())
    }

    /// `name` answers these first, then `standing`.
    pub fn answer(&self, name: &str, first: &[u16], standing: u16) {
        let mut i = self.inner.lock().unwrap();
        i.script
            .insert(name.to_owned(), first.iter().copied().collect());
        i.standing.insert(name.to_owned(), standing);
    }

    /// `name` takes `delay` to answer each push.
    pub fn slow(&self, name: &str, delay: Duration) {
        self.inner
            .lock()
            .unwrap()
            .slow
            .insert(name.to_owned(), delay);
    }

    /// Every POST to `name` so far.
    pub fn got(&self, name: &str) -> Vec<Got> {
        self.inner
            .lock()
            .unwrap()
            .got
            .get(name)
            .cloned()
            .unwrap_or_default()
    }

    /// The POSTs to `name` it accepted (2xx).
    pub fn delivered(&self, name: &str) -> Vec<Got> {
        self.got(name)
            .into_iter()
            .filter(|g| (200..300).contains(&g.status))
            .collect()
    }

    /// Waits until `name` has had `n` POSTs (any answer), panicking after `wait`.
    pub async fn wait_posts(&self, name: &str, n: usize, wait: Duration) -> Vec<Got> {
        let deadline = Instant::now() + wait;
        loop {
            let got = self.got(name);
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{name}: {} of {n} pushes within {wait:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits until `name` has accepted `n` pushes, then that nothing more
    /// comes for `quiet`: exactly `n`.
    pub async fn exactly(&self, name: &str, n: usize, quiet: Duration) -> Vec<Got> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.delivered(name).len() < n {
            assert!(
                Instant::now() < deadline,
                "{name}: {} of {n} pushes delivered within 20 s",
                self.delivered(name).len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        tokio::time::sleep(quiet).await;
        let got = self.delivered(name);
        assert_eq!(
            got.len(),
            n,
            "{name}: {n} pushes expected, got {}",
            got.len()
        );
        got
    }
}

/// A device's push keys (what a browser's `PushSubscription` holds).
pub struct DeviceKeys {
    pub secret: p256::SecretKey,
    pub auth: [u8; 16],
}

impl Default for DeviceKeys {
    fn default() -> Self {
        Self::new()
    }
}

impl DeviceKeys {
    pub fn new() -> DeviceKeys {
        DeviceKeys {
            secret: loop {
                // Nearly every 32 random bytes are a valid scalar.
                if let Ok(k) = p256::SecretKey::from_slice(&rand::random::<[u8; 32]>()) {
                    break k;
                }
            },
            auth: rand::random(),
        }
    }

    /// `keys` of `push.register`.
    pub fn json(&self) -> Value {
        let point = self.secret.public_key().as_affine().to_encoded_point(false);
        json!({
            "p256dh": URL_SAFE_NO_PAD.encode(point.as_bytes()),
            "auth": URL_SAFE_NO_PAD.encode(self.auth),
        })
    }

    /// base64url of the private scalar (for the independent check).
    pub fn secret_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.secret.to_bytes())
    }

    /// The decrypted payload of a push (RFC 8291, aes128gcm).
    pub fn open(&self, got: &Got) -> Value {
        assert_eq!(got.header("content-encoding"), "aes128gcm");
        let plain = web_push_native::decrypt(
            got.body.clone(),
            &self.secret,
            &web_push_native::Auth::from(self.auth),
        )
        .expect("the push decrypts with the device's keys");
        serde_json::from_slice(&plain).expect("the payload is JSON")
    }
}
