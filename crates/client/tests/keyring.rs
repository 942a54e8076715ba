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
