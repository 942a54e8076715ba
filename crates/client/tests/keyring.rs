//! Tokens in a real OS keyring (the Secret Service on Linux).
//!
//! Needs a running Secret Service, so it is ignored by a plain `cargo test`;
//! `scripts/test.sh` runs it inside `dbus-run-session` with an unlocked
//! `gnome-keyring-daemon`.
#![allow(missing_docs, clippy::unwrap_used)]

use leetchat_client::CredentialStore;
use leetchat_client::credentials::Credentials;

fn creds(user: &str, token: &str) -> Credentials {
    Credentials {
        user_id: format!("id-{user}"),
        user_name: user.into(),
        device_id: "device".into(),
        access_token: token.into(),
        access_expires_at: 1,
        access_lifetime: 900,
        refresh_token: format!("refresh-{token}"),
    }
}

#[tokio::test]
#[ignore = "needs a Secret Service; scripts/test.sh runs it under dbus-run-session"]
async fn the_keyring_keeps_one_entry_per_server_and_account() {
    let store = CredentialStore::Keyring;
    store.check().await.expect("a Secret Service is running");
    let a = "http://one.example:3001";
    let b = "http://two.example:3001";
    store.save(a, &creds("alice", "t1")).await.unwrap();
    store.save(b, &creds("alice", "t2")).await.unwrap();
    store.save(a, &creds("bob", "t3")).await.unwrap();
    assert_eq!(
        store.load(a, "alice").await.unwrap(),
        Some(creds("alice", "t1"))
    );
    assert_eq!(
        store.load(b, "ALICE").await.unwrap(),
        Some(creds("alice", "t2"))
    );
    assert_eq!(
        store.load(a, "bob").await.unwrap(),
        Some(creds("bob", "t3"))
    );
    store.save(a, &creds("alice", "t4")).await.unwrap();
    assert_eq!(
        store.load(a, "alice").await.unwrap(),
        Some(creds("alice", "t4")),
        "replaced"
    );
    for (server, user) in [(a, "alice"), (b, "alice"), (a, "bob")] {
        store.delete(server, user).await.unwrap();
        assert_eq!(store.load(server, user).await.unwrap(), None);
    }
}

#[path = "core/harness.rs"]
#[allow(dead_code, unused_imports)]
mod harness;

/// Without any Secret Service, registering fails at once with `NoKeyring`
/// (a UI offers the file store on it) and creates no account: the same
/// name registers afterwards with the file store. Runs the check in a child
/// process of this test binary with no D-Bus session to find.
#[test]
fn without_a_keyring_registering_fails_first_and_creates_nothing() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "no_keyring_child", "--ignored", "--nocapture"])
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/leetchat-no-bus",
        )
        .env("LEETCHAT_NO_KEYRING_CHILD", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "the child ran: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by without_a_keyring_registering_fails_first_and_creates_nothing in a child process"]
async fn no_keyring_child() {
    if std::env::var_os("LEETCHAT_NO_KEYRING_CHILD").is_none() {
        return;
    }
    let server = harness::Server::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let c = leetchat_client::Client::open(leetchat_client::ClientConfig {
        server: server.url(),
        data_dir: dir.path().join("keyring"),
        credentials: CredentialStore::Keyring,
        device_name: "test".into(),
    })
    .await
    .unwrap();
    match c.register("nokeyring", "password-nokeyring", None).await {
        Err(leetchat_client::Error::NoKeyring(why)) => {
            assert!(why.contains("LEETCHAT_CREDENTIALS=file"), "{why}");
        }
        other => panic!("expected NoKeyring, got {other:?}"),
    }
    let c = harness::registered(&server.url(), &dir.path().join("file"), "nokeyring").await;
    assert_eq!(c.me().unwrap().user_name, "nokeyring");
}
