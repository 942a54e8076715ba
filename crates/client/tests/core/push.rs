//! Web Push through the client core (protocol 9.6): a device registers the
//! endpoint its distributor gave it, goes away, and opens what the server
//! pushed to it (a local push service stands in for the distributor's).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use leetchat_client::notify::notification_id;
use leetchat_client::push::PushNotice;

use crate::WAIT;
use crate::harness::{Server, client, eventually, registered};

/// A push service that keeps every body it is given.
struct Inbox {
    port: u16,
    got: Arc<Mutex<Vec<Vec<u8>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Inbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Inbox {
    async fn start() -> Inbox {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let got: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
        let router = axum::Router::new()
            .route(
                "/push",
                post(
                    |State(got): State<Arc<Mutex<Vec<Vec<u8>>>>>, body: Bytes| async move {
                        got.lock().unwrap().push(body.to_vec());
                        axum::http::StatusCode::CREATED
                    },
                ),
            )
            .with_state(got.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Inbox { port, got, task }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/push", self.port)
    }

    fn bodies(&self) -> Vec<Vec<u8>> {
        self.got.lock().unwrap().clone()
    }
}

/// Waits until the server counts `n` open sockets.
async fn sockets(server: &Server, n: u64) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let health: serde_json::Value = reqwest::get(format!("{}/health/chat", server.url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if health["connections"] == n {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{health}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_registers_goes_away_and_opens_its_pushes() {
    let server = Server::start(|c| c.web_push.allow_http_hosts = vec!["127.0.0.1".into()]).await;
    let inbox = Inbox::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bob = registered(&server.url(), &dir.path().join("bob"), "bob").await;
    let phone = registered(&server.url(), &dir.path().join("phone"), "alice").await;
    let desk = client(&server.url(), &dir.path().join("desk")).await;
    desk.login("alice", "password-alice").await.unwrap();
    for c in [&bob, &phone, &desk] {
        c.start().unwrap();
        c.wait_online(WAIT).await.unwrap();
    }
    let alice_id = phone.me().unwrap().user_id;
    let room = bob.create_group("team", &[alice_id]).await.unwrap().room_id;
    eventually("the phone has the room", WAIT, || {
        phone.room(&room).unwrap().is_some()
    })
    .await;

    phone.register_push(&inbox.endpoint(), true).await.unwrap();
    assert_eq!(phone.push_endpoint().unwrap(), Some(inbox.endpoint()));
    let keys = phone.push_keys().unwrap().public();
    phone.stop().await;
    sockets(&server, 2).await;

    let sent = bob.send_text(&room, "hi **alice**, see `this`").unwrap();
    let key = sent.local_id.to_string();
    eventually("the send is acked", WAIT, || {
        bob.message(&key).unwrap().seq.is_some()
    })
    .await;
    let acked = bob.message(&key).unwrap();
    let (message_id, seq) = (acked.message_id.unwrap(), acked.seq.unwrap());
    eventually("the push arrives", WAIT, || inbox.bodies().len() == 1).await;
    // Opened with the keys the store kept, without a connection.
    let notice = phone.open_push(&inbox.bodies()[0]).unwrap();
    assert_eq!(
        notice,
        PushNotice::Show {
            id: notification_id(&room),
            room_id: room.clone(),
            message_id,
            title: "bob in team".into(),
            body: "hi alice, see `this`".into(),
        }
    );
    assert_eq!(
        phone.push_keys().unwrap().public(),
        keys,
        "the keys are kept"
    );

    // Read on the desk: the phone is told to take the notification back.
    desk.mark_read(&room, seq).await.unwrap();
    eventually("the read push arrives", WAIT, || inbox.bodies().len() == 2).await;
    assert_eq!(
        phone.open_push(&inbox.bodies()[1]).unwrap(),
        PushNotice::Withdraw {
            id: notification_id(&room),
            room_id: room.clone(),
            seq
        }
    );
    // Something else is refused with a clear error, and nothing breaks.
    assert!(phone.open_push(b"not a push").is_err());

    // Turned off: nothing more is pushed.
    phone.start().unwrap();
    phone.wait_online(WAIT).await.unwrap();
    phone.unregister_push().await.unwrap();
    assert_eq!(phone.push_endpoint().unwrap(), None);
    phone.stop().await;
    sockets(&server, 2).await;
    bob.send_text(&room, "after").unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(inbox.bodies().len(), 2);
}
