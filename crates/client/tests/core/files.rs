//! Files through the client core against a real server: queued copies,
//! uploads before the send, refusals, rate limits, and a client killed
//! between the upload and the send.

use std::time::Duration;

use leetchat_client::Delivery;

use crate::harness::{Server, client, eventually};
use crate::{WAIT, assert_exactly_once_in_order, pair, stored, stored_on_server};

/// A text file of `size` bytes in `dir`.
fn text_file(dir: &std::path::Path, name: &str, size: usize) -> std::path::PathBuf {
    let line = "all work and no play makes jack a dull boy\n";
    let body: String = line.chars().cycle().take(size).collect();
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

/// A 1x1 PNG.
fn png(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
        .unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Copies of queued files left in a client's data folder.
fn queued_copies(data_dir: &std::path::Path) -> usize {
    std::fs::read_dir(data_dir.join("outbox-files")).map_or(0, |d| d.count())
}

/// `(sent, total)` of every upload progress event of `temp_id` received so far.
fn progress_of(
    events: &mut tokio::sync::broadcast::Receiver<leetchat_client::ClientEvent>,
    temp_id: &str,
) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    while let Ok(e) = events.try_recv() {
        if let leetchat_client::ClientEvent::UploadProgress {
            temp_id: t,
            sent,
            total,
            ..
        } = e
            && t == temp_id
        {
            out.push((sent, total));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_sent_while_the_server_is_down_is_uploaded_and_delivered_once_when_it_returns() {
    let mut server = Server::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b, room) = pair(&server, &dir).await;
    server.kill();
    let original = text_file(dir.path(), "report.txt", 300_000);
    let bytes = std::fs::read(&original).unwrap();
    let mut events = a.events();
    let m = a.send_file(&room, &original, "the report").await.unwrap();
    assert_eq!(m.delivery, Delivery::Pending, "shown at once, pending");
    assert_eq!(m.message_type, "file");
    assert_eq!(m.content, "the report");
    assert_eq!(m.attachments[0].name, "report.txt");
    assert_eq!(m.attachments[0].size, 300_000, "a local preview");
    // The original may go: the upload is made from a copy.
    std::fs::remove_file(&original).unwrap();
    assert_eq!(queued_copies(&dir.path().join("alice")), 1);

    server.restart().await;
    eventually("alice's outbox drains", WAIT, || {
        a.outbox_len().unwrap() == 0
    })
    .await;
    eventually("bob has it", WAIT, || stored(&b, &room).len() == 1).await;

    let progress = progress_of(&mut events, m.temp_id.as_deref().unwrap());
    assert!(
        progress.len() > 2,
        "progress as bytes went out: {progress:?}"
    );
    assert!(
        progress.windows(2).all(|w| w[0].0 <= w[1].0),
        "{progress:?}"
    );
    assert_eq!(progress.last(), Some(&(300_000, 300_000)));

    let mine = a.message(m.temp_id.as_deref().unwrap()).unwrap();
    assert_eq!(mine.delivery, Delivery::Sent);
    let theirs = &b.messages(&room, None, 10).unwrap()[0];
    assert_eq!(theirs.message_type, "file");
    assert_eq!(theirs.content, "the report");
    assert_eq!(theirs.attachments.len(), 1);
    let att = &theirs.attachments[0];
    assert_eq!((att.name.as_str(), att.size), ("report.txt", 300_000));
    assert!(att.mime.starts_with("text/plain"), "{att:?}");
    assert_eq!(mine.attachments, theirs.attachments);
    assert_eq!(server.stored_files(), 1, "uploaded once");
    let page = stored_on_server(&b, &room).await;
    assert_eq!(page, 1, "sent once");
    assert_eq!(
        queued_copies(&dir.path().join("alice")),
        0,
        "the copy goes once acked"
    );

    let path = b.download(&att.file_id, false).await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "the same bytes");
    server.kill();
    assert_eq!(
        b.download(&att.file_id, false).await.unwrap(),
        path,
        "a downloaded file is served from the cache"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_goes_as_an_image_with_its_dimensions_and_a_thumbnail() {
    let server = Server::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b, room) = pair(&server, &dir).await;
    let m = a
        .send_file(&room, &png(dir.path(), "dot.png"), "")
        .await
        .unwrap();
    assert_eq!(m.message_type, "image");
    eventually("bob has it", WAIT, || stored(&b, &room).len() == 1).await;
    let theirs = &b.messages(&room, None, 10).unwrap()[0];
    assert_eq!(theirs.message_type, "image");
    assert_eq!(theirs.content, "", "a caption is optional");
    let att = &theirs.attachments[0];
    assert_eq!((att.width, att.height), (Some(1), Some(1)));
    assert!(att.mime.starts_with("image/"), "{att:?}");
    let thumb = b.download(&att.file_id, true).await.unwrap();
    assert!(thumb.to_string_lossy().ends_with(".thumb"));
    assert!(!std::fs::read(&thumb).unwrap().is_empty());
    let full = b.download(&att.file_id, false).await.unwrap();
    assert_ne!(full, thumb);
    assert!(!std::fs::read(&full).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_over_the_servers_limit_fails_with_a_reason_and_does_not_block_the_room() {
    let server = Server::start(|c| c.max_file_size = 4096).await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b, room) = pair(&server, &dir).await;
    let mut events = a.events();
    let big = a
        .send_file(&room, &text_file(dir.path(), "big.txt", 200_000), "too big")
        .await
        .unwrap();
    a.send_text(&room, "after").unwrap();
    eventually("alice's outbox drains", WAIT, || {
        a.outbox_len().unwrap() == 0
    })
    .await;
    let failed = a.message(big.temp_id.as_deref().unwrap()).unwrap();
    assert_eq!(failed.delivery, Delivery::Failed);
    let reason = failed.error.clone().unwrap_or_default();
    assert!(reason.contains("4096"), "the server's reason: {reason}");
    let mut reported = false;
    while let Ok(e) = events.try_recv() {
        if let leetchat_client::ClientEvent::OutboxFailed { temp_id, .. } = e {
            reported |= Some(temp_id) == big.temp_id;
        }
    }
    assert!(reported, "the failure was reported");
    eventually("bob has the text", WAIT, || stored(&b, &room).len() == 1).await;
    assert_exactly_once_in_order(&b, &room, &["after".to_owned()]);
    assert_eq!(server.stored_files(), 0);
    assert_eq!(
        queued_copies(&dir.path().join("alice")),
        0,
        "the copy goes once refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_uploads_wait_and_then_go_out_in_order() {
    let server = Server::start(|c| {
        c.rate_limits.file = leetchat_server::config::RateLimit::new(1, 2);
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b, room) = pair(&server, &dir).await;
    let started = std::time::Instant::now();
    for name in ["one.txt", "two.txt"] {
        a.send_file(&room, &text_file(dir.path(), name, 1000), name)
            .await
            .unwrap();
    }
    eventually("both sent", WAIT, || a.outbox_len().unwrap() == 0).await;
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "the limit was honoured"
    );
    eventually("bob has both", WAIT, || stored(&b, &room).len() == 2).await;
    assert_exactly_once_in_order(&b, &room, &["one.txt".to_owned(), "two.txt".to_owned()]);
    assert_eq!(server.stored_files(), 2);
}

/// Alice's client, in its own runtime on another thread, queues `file`; once
/// the upload is done and its fileId kept, but the send is still held back
/// (rate limited), the client is killed. Returns the fileId it kept.
fn upload_then_kill(
    url: String,
    alice_dir: std::path::PathBuf,
    room: String,
    file: std::path::PathBuf,
) -> String {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let file_id = rt.block_on(async {
            let a = client(&url, &alice_dir).await;
            a.start().unwrap();
            let m = a.send_file(&room, &file, "kept").await.unwrap();
            let key = m.temp_id.unwrap();
            eventually("the upload is kept", WAIT, || {
                !a.message(&key).unwrap().attachments[0].file_id.is_empty()
            })
            .await;
            assert_eq!(
                a.outbox_len().unwrap(),
                1,
                "killed before the send went out"
            );
            let items = a.store().outbox_items().unwrap();
            let kept = items[0].files().unwrap()[0].file_id.clone().unwrap();
            assert_eq!(kept, a.message(&key).unwrap().attachments[0].file_id);
            kept
        });
        rt.shutdown_background(); // no goodbye, no cleanup
        file_id
    })
    .join()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_killed_after_the_upload_but_before_the_send_does_not_upload_again() {
    // One message per 6 s: the file's send waits behind "first".
    let server = Server::start(|c| {
        c.rate_limits.message = leetchat_server::config::RateLimit::new(1, 6);
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b, room) = pair(&server, &dir).await;
    a.send_text(&room, "first").unwrap();
    eventually("first sent", WAIT, || a.outbox_len().unwrap() == 0).await;
    a.stop().await;
    drop(a);
    let file = text_file(dir.path(), "once.txt", 50_000);
    let kept = upload_then_kill(server.url(), dir.path().join("alice"), room.clone(), file);

    let a = client(&server.url(), &dir.path().join("alice")).await;
    a.start().unwrap();
    eventually("the outbox drains", WAIT, || a.outbox_len().unwrap() == 0).await;
    eventually("bob has both", WAIT, || stored(&b, &room).len() == 2).await;
    let theirs = &b.messages(&room, None, 10).unwrap()[1];
    assert_eq!(
        theirs.attachments[0].file_id, kept,
        "sent with the kept upload"
    );
    assert_eq!(server.stored_files(), 1, "uploaded once");
    assert_eq!(queued_copies(&dir.path().join("alice")), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_the_server_no_longer_has_when_the_send_goes_is_uploaded_again_once() {
    let server = Server::start(|c| {
        c.rate_limits.message = leetchat_server::config::RateLimit::new(1, 6);
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b, room) = pair(&server, &dir).await;
    a.send_text(&room, "first").unwrap();
    eventually("first sent", WAIT, || a.outbox_len().unwrap() == 0).await;
    a.stop().await;
    drop(a);
    let file = text_file(dir.path(), "expired.txt", 50_000);
    let kept = upload_then_kill(server.url(), dir.path().join("alice"), room.clone(), file);
    // The upload expires before the send goes.
    server.forget_file(&kept);

    let a = client(&server.url(), &dir.path().join("alice")).await;
    a.start().unwrap();
    eventually("the outbox drains", WAIT, || a.outbox_len().unwrap() == 0).await;
    eventually("bob has both", WAIT, || stored(&b, &room).len() == 2).await;
    let theirs = &b.messages(&room, None, 10).unwrap()[1];
    assert_eq!(theirs.content, "kept");
    assert_ne!(theirs.attachments[0].file_id, kept, "a fresh upload");
    assert_eq!(server.stored_files(), 1);
}
