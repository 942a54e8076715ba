//! File and image sharing: uploads (limits, sniffed types, bombs, names),
//! who may read a file, and how it is served (headers, ETag, Range).

use std::io::Cursor;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, TestUser, direct_id, group_id};

pub(crate) fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(w, h, image::Rgb([20, 120, 220]));
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn jpeg_with_gps_exif() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(64, 48, image::Rgb([200, 100, 50]));
    let mut jpeg = Vec::new();
    img.write_to(&mut Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
        .unwrap();
    let payload = b"Exif\0\0GPS 52.5200N 13.4050E";
    let len = (payload.len() + 2) as u16;
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Uploads `bytes` as `name`; returns status and body.
pub(crate) async fn upload(
    app: &TestApp,
    token: Option<&str>,
    name: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str("image/png")
        .unwrap();
    let form = reqwest::multipart::Form::new().part("file", part);
    let mut req = app.http.post(app.url("/api/files")).multipart(form);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn fetch(
    app: &TestApp,
    user: &TestUser,
    path: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = app.http.get(app.url(path)).bearer_auth(&user.access_token);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

async fn images_are_measured_thumbnailed_stripped_and_shared_with_the_room(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let room_id = direct_id(&mut a, &bob).await;

    let (s, body) = upload(
        &app,
        Some(&alice.access_token),
        "holiday.jpg",
        jpeg_with_gps_exif(),
    )
    .await;
    assert_eq!(s, 201, "{body}");
    let att = &body["attachment"];
    assert_eq!(att["mime"], "image/jpeg");
    assert_eq!(att["name"], "holiday.jpg");
    assert_eq!(
        (att["width"].as_i64(), att["height"].as_i64()),
        (Some(64), Some(48))
    );
    let file_id = att["fileId"].as_str().unwrap().to_owned();
    assert_eq!(att["url"], format!("/api/files/{file_id}"));
    assert_eq!(
        att["thumbnailUrl"],
        format!("/api/files/{file_id}/thumbnail")
    );

    // Not shared yet: bob cannot read it; alice can.
    assert_eq!(
        fetch(&app, &bob, &format!("/api/files/{file_id}"), &[])
            .await
            .status(),
        403
    );
    assert_eq!(
        fetch(&app, &alice, &format!("/api/files/{file_id}"), &[])
            .await
            .status(),
        200
    );

    let sent = a
        .ok(
            "message.send",
            json!({"roomId": room_id, "type": "image", "content": "", "attachments": [file_id]}),
        )
        .await;
    assert_eq!(
        sent["message"]["attachments"][0]["fileId"],
        file_id.as_str()
    );
    let pushed = bc.push("message.received").await;
    assert_eq!(pushed["message"]["attachments"][0]["width"], 64);

    let resp = fetch(&app, &bob, &format!("/api/files/{file_id}"), &[]).await;
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert_eq!(h["content-type"], "image/jpeg");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-security-policy"], "sandbox");
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline")
    );
    let etag = h["etag"].to_str().unwrap().to_owned();
    let bytes = resp.bytes().await.unwrap();
    assert!(!bytes.windows(3).any(|w| w == b"GPS"), "EXIF is not served");
    image::load_from_memory(&bytes).expect("still a valid image");

    let thumb = fetch(&app, &bob, &format!("/api/files/{file_id}/thumbnail"), &[]).await;
    assert_eq!(thumb.status(), 200);
    image::load_from_memory(&thumb.bytes().await.unwrap()).expect("thumbnail decodes");

    let again = fetch(
        &app,
        &bob,
        &format!("/api/files/{file_id}"),
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(again.status(), 304, "unchanged files are not sent twice");
    // Someone outside the room, and nobody at all, cannot read it.
    assert_eq!(
        fetch(&app, &carol, &format!("/api/files/{file_id}"), &[])
            .await
            .status(),
        403
    );
    let anon = app
        .http
        .get(app.url(&format!("/api/files/{file_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
    assert_eq!(
        fetch(&app, &alice, "/api/files/no-such-file", &[])
            .await
            .status(),
        404
    );
}

async fn uploads_at_the_limit_pass_and_over_it_are_refused_without_leftovers(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.max_file_size = 100_000).await;
    let alice = app.register("alice").await;
    let at_limit = "a".repeat(100_000).into_bytes();
    let (s, body) = upload(&app, Some(&alice.access_token), "notes.txt", at_limit).await;
    assert_eq!(s, 201, "{body}");
    assert_eq!(
        body["attachment"]["mime"], "text/plain",
        "the type comes from the bytes, not the part's header"
    );
    assert_eq!(body["attachment"]["size"], 100_000);
    let (s, body) = upload(
        &app,
        Some(&alice.access_token),
        "big.txt",
        "a".repeat(100_001).into_bytes(),
    )
    .await;
    assert_eq!(s, 413, "{body}");
    assert_eq!(body["error"]["code"], "too_large");
    // Far over the limit: the server answers 413 while the body is still
    // arriving and may close the connection, so the client can also see the
    // connection end before it reads the answer (through nginx, which was
    // still sending the body, that is a 502). Either way nothing is kept.
    let part = reqwest::multipart::Part::bytes(vec![b'a'; 5_000_000]).file_name("huge.txt");
    let huge = app
        .http
        .post(app.url("/api/files"))
        .bearer_auth(&alice.access_token)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await;
    if let Ok(resp) = huge {
        let s = resp.status().as_u16();
        assert!(
            s == 413 || (b == Backend::Cluster && s == 502),
            "413, or the proxy saw the node hang up: {s}"
        );
    }
    let tmp = app.state.config.data_dir.join("tmp");
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "no partial uploads left behind: {left:?}");
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM files")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(n, 1);
}

async fn forged_types_bombs_and_bad_names_are_handled(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    // An ELF executable dressed as a picture.
    let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0".to_vec();
    elf.extend(vec![0u8; 2000]);
    let (s, body) = upload(&app, Some(&alice.access_token), "cute-cat.png", elf).await;
    assert_eq!(s, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid");
    // A PNG that claims 100000x100000 pixels.
    let mut bomb = png(1, 1);
    bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let (s, body) = upload(&app, Some(&alice.access_token), "bomb.png", bomb).await;
    assert!(s == 413 || s == 400, "{s} {body}");
    // A truncated image.
    let (s, _) = upload(
        &app,
        Some(&alice.access_token),
        "broken.png",
        png(40, 40)[..60].to_vec(),
    )
    .await;
    assert_eq!(s, 400);
    // Path-like names are reduced to a plain name.
    let (s, body) = upload(
        &app,
        Some(&alice.access_token),
        "../../etc/passwd",
        b"root:x:0:0".to_vec(),
    )
    .await;
    assert_eq!(s, 201);
    // ...and text gets an extension that says it is text.
    assert_eq!(body["attachment"]["name"], "passwd.txt");
    let resp = fetch(
        &app,
        &alice,
        body["attachment"]["url"].as_str().unwrap(),
        &[],
    )
    .await;
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let (s, _) = upload(&app, Some(&alice.access_token), "empty.txt", Vec::new()).await;
    assert_eq!(s, 400);
    let (s, _) = upload(&app, None, "x.txt", b"hello".to_vec()).await;
    assert_eq!(s, 401);
}

/// A PNG whose header declares `w` x `h` pixels at `depth` bits of colour
/// type `colour` (6: RGBA), with an empty IDAT: a few dozen bytes.
fn declared_png(w: u32, h: u32, depth: u8, colour: u8) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[depth, colour, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [
        (&b"IHDR"[..], &ihdr[..]),
        (b"IDAT", &[0x78, 0x9c]),
        (b"IEND", &[]),
    ] {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut h = crc32fast::Hasher::new();
        h.update(kind);
        h.update(data);
        out.extend_from_slice(&h.finalize().to_be_bytes());
    }
    out
}

async fn an_image_too_big_to_decode_in_memory_is_refused_before_decoding(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    // 7000x7000 (49 Mpx, under the pixel limit) of 16-bit RGBA: 392 MB
    // decoded. Before the bound it was decoded (and here, with no pixel
    // data, then found broken: 400 after the allocation).
    for _ in 0..3 {
        let (s, body) = upload(
            &app,
            Some(&alice.access_token),
            "huge.png",
            declared_png(7000, 7000, 16, 6),
        )
        .await;
        assert_eq!(s, 413, "{body}");
        assert_eq!(body["error"]["code"], "too_large");
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(msg.contains("374 MiB to decode"), "{msg}");
        assert!(msg.contains("at most 160 MiB"), "{msg}");
    }
    // An ordinary picture still goes through.
    let (s, body) = upload(&app, Some(&alice.access_token), "ok.png", png(300, 200)).await;
    assert_eq!(s, 201, "{body}");
}

async fn images_are_decoded_a_few_at_a_time(b: Backend) {
    let app = TestApp::spawn_with(b, |c| c.image_decodes = 1).await;
    let alice = app.register("alice").await;
    // Take every node's only turn, as a long decode would.
    let mut turns = Vec::new();
    for st in app.states() {
        turns.push(st.image_gate.clone().acquire_owned().await.unwrap());
    }
    let http = app.http.clone();
    let url = app.url("/api/files");
    let token = alice.access_token.clone();
    let waiting = tokio::spawn(async move {
        let part = reqwest::multipart::Part::bytes(png(64, 64)).file_name("wait.png");
        let form = reqwest::multipart::Form::new().part("file", part);
        let resp = http
            .post(url)
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        resp.status().as_u16()
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!waiting.is_finished(), "the upload waits for a turn");
    // Text needs no turn.
    let (s, _) = upload(&app, Some(&alice.access_token), "a.txt", b"hello".to_vec()).await;
    assert_eq!(s, 201);
    drop(turns);
    let status = tokio::time::timeout(Duration::from_secs(20), waiting)
        .await
        .expect("done once the turn is free")
        .unwrap();
    assert_eq!(status, 201);
}

async fn file_names_read_as_they_are_and_agree_with_the_type(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    // Shown as "invoicetab.pdf" by the right-to-left override; text inside.
    let (s, body) = upload(
        &app,
        Some(&alice.access_token),
        "invoice\u{202e}fdp.bat",
        b"@echo off\r\nformat c:".to_vec(),
    )
    .await;
    assert_eq!(s, 201, "{body}");
    let att = &body["attachment"];
    assert_eq!(att["mime"], "text/plain");
    assert_eq!(att["name"], "invoicefdp.bat.txt");
    let resp = fetch(&app, &alice, att["url"].as_str().unwrap(), &[]).await;
    assert_eq!(
        resp.headers()["content-disposition"].to_str().unwrap(),
        "attachment; filename*=UTF-8''invoicefdp.bat.txt"
    );
    // A picture named as another kind of picture gets its real extension.
    let (s, body) = upload(
        &app,
        Some(&alice.access_token),
        "\u{200b}photo.gif",
        png(8, 8),
    )
    .await;
    assert_eq!(s, 201, "{body}");
    assert_eq!(body["attachment"]["name"], "photo.gif.png");
    // A name that agrees keeps its case and letters.
    let (s, body) = upload(&app, Some(&alice.access_token), "Отчёт 2026.PNG", png(8, 8)).await;
    assert_eq!(s, 201, "{body}");
    assert_eq!(body["attachment"]["name"], "Отчёт 2026.PNG");
}

async fn range_requests_return_the_asked_bytes(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let text: Vec<u8> = (0..1000).map(|i| b'a' + (i % 26) as u8).collect();
    let (_, body) = upload(&app, Some(&alice.access_token), "abc.txt", text.clone()).await;
    let url = body["attachment"]["url"].as_str().unwrap().to_owned();
    let r = fetch(&app, &alice, &url, &[("range", "bytes=10-19")]).await;
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"], "bytes 10-19/1000");
    assert_eq!(r.bytes().await.unwrap().as_ref(), &text[10..20]);
    let r = fetch(&app, &alice, &url, &[("range", "bytes=-5")]).await;
    assert_eq!(r.bytes().await.unwrap().as_ref(), &text[995..]);
    let r = fetch(&app, &alice, &url, &[("range", "bytes=2000-")]).await;
    assert_eq!(r.status(), 416);
    let r = fetch(&app, &alice, &url, &[]).await;
    assert_eq!(r.headers()["accept-ranges"], "bytes");
    assert_eq!(r.bytes().await.unwrap().len(), 1000);
}

async fn access_ends_with_membership_and_with_the_message(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let mut a = app.connect(&alice).await;
    let mut cc = app.connect(&carol).await;
    let g = group_id(&mut a, "g", &[&bob, &carol]).await;
    let (_, body) = upload(
        &app,
        Some(&alice.access_token),
        "plan.txt",
        b"the plan".to_vec(),
    )
    .await;
    let file_id = body["attachment"]["fileId"].as_str().unwrap().to_owned();
    let url = format!("/api/files/{file_id}");
    let m = a
        .ok(
            "message.send",
            json!({"roomId": g, "type": "file", "attachments": [file_id]}),
        )
        .await;
    assert_eq!(fetch(&app, &bob, &url, &[]).await.status(), 200);
    // Only the uploader may attach a file.
    cc.fails(
        "message.send",
        json!({"roomId": g, "type": "file", "attachments": [file_id]}),
        "forbidden",
    )
    .await;
    // A removed member loses access.
    a.ok(
        "room.members.remove",
        json!({"roomId": g, "userId": bob.user_id}),
    )
    .await;
    assert_eq!(fetch(&app, &bob, &url, &[]).await.status(), 403);
    assert_eq!(fetch(&app, &carol, &url, &[]).await.status(), 200);
    // Deleting the message takes the access away from everyone but the uploader.
    a.ok(
        "message.delete",
        json!({"messageId": m["message"]["messageId"]}),
    )
    .await;
    assert_eq!(fetch(&app, &carol, &url, &[]).await.status(), 403);
    assert_eq!(fetch(&app, &alice, &url, &[]).await.status(), 200);
}

async fn unattached_uploads_are_cleaned_up_and_shared_ones_stay(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let room_id = direct_id(&mut a, &bob).await;
    let (_, lone) = upload(&app, Some(&alice.access_token), "lone.png", png(10, 10)).await;
    let (_, kept) = upload(&app, Some(&alice.access_token), "kept.png", png(10, 10)).await;
    a.ok(
        "message.send",
        json!({"roomId": room_id, "type": "image", "attachments": [kept["attachment"]["fileId"]]}),
    )
    .await;
    let removed = leetchat_server::files::sweep_unattached(&app.state, Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(removed, 0, "recent uploads get time to be sent");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let removed = leetchat_server::files::sweep_unattached(&app.state, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(removed, 1);
    let lone_url = lone["attachment"]["url"].as_str().unwrap();
    assert_eq!(fetch(&app, &alice, lone_url, &[]).await.status(), 404);
    let kept_url = kept["attachment"]["url"].as_str().unwrap();
    assert_eq!(fetch(&app, &alice, kept_url, &[]).await.status(), 200);
}

async fn uploads_are_rate_limited(b: Backend) {
    let app = TestApp::spawn_with(b, |c| {
        c.rate_limits.file = leetchat_server::config::RateLimit::new(2, 300)
    })
    .await;
    let alice = app.register("alice").await;
    for _ in 0..2 {
        assert_eq!(
            upload(&app, Some(&alice.access_token), "a.txt", b"x".to_vec())
                .await
                .0,
            201
        );
    }
    let (s, body) = upload(&app, Some(&alice.access_token), "a.txt", b"x".to_vec()).await;
    assert_eq!(s, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");
}

crate::on_both_databases!(
    images_are_measured_thumbnailed_stripped_and_shared_with_the_room,
    uploads_at_the_limit_pass_and_over_it_are_refused_without_leftovers,
    forged_types_bombs_and_bad_names_are_handled,
    range_requests_return_the_asked_bytes,
    access_ends_with_membership_and_with_the_message,
    unattached_uploads_are_cleaned_up_and_shared_ones_stay,
    uploads_are_rate_limited,
    an_image_too_big_to_decode_in_memory_is_refused_before_decoding,
    images_are_decoded_a_few_at_a_time,
    file_names_read_as_they_are_and_agree_with_the_type,
);

/// An S3-compatible server (moto, from PyPI) on a free loopback port.
struct S3Server {
    child: std::process::Child,
    url: String,
}

impl S3Server {
    async fn start() -> S3Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect(
                "moto_server (pip install 'moto[server]'; scripts/test.sh does) must be installed",
            );
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let created = reqwest::Client::new()
            .put(format!("{url}/leetchat-uploads"))
            .send()
            .await
            .unwrap();
        assert!(
            created.status().is_success(),
            "bucket created: {}",
            created.status()
        );
        S3Server { child, url }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_can_live_in_an_s3_compatible_bucket() {
    let s3 = S3Server::start().await;
    let url = s3.url.clone();
    let app = TestApp::spawn_with(Backend::Sqlite, move |c| {
        c.upload_bucket = Some("leetchat-uploads".into());
        c.upload_endpoint = Some(url);
        c.upload_access_key_id = Some("test".into());
        c.upload_secret_access_key = Some("test".into());
    })
    .await;
    assert_eq!(app.state.files.name(), "object");
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let room_id = direct_id(&mut a, &bob).await;
    let (s, body) = upload(&app, Some(&alice.access_token), "pic.png", png(400, 200)).await;
    assert_eq!(s, 201, "{body}");
    let file_id = body["attachment"]["fileId"].as_str().unwrap().to_owned();
    a.ok(
        "message.send",
        json!({"roomId": room_id, "type": "image", "attachments": [file_id]}),
    )
    .await;
    let resp = fetch(&app, &bob, &format!("/api/files/{file_id}"), &[]).await;
    assert_eq!(resp.status(), 200);
    let img = image::load_from_memory(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!((img.width(), img.height()), (400, 200));
    let r = fetch(
        &app,
        &bob,
        &format!("/api/files/{file_id}"),
        &[("range", "bytes=0-7")],
    )
    .await;
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"\x89PNG\r\n\x1a\n");
    let thumb = fetch(&app, &bob, &format!("/api/files/{file_id}/thumbnail"), &[]).await;
    assert_eq!(thumb.status(), 200);
    // The bytes really are in the bucket.
    let listing = reqwest::get(format!("{}/leetchat-uploads?list-type=2", s3.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        listing.contains(&format!("files/{file_id}.original")),
        "{listing}"
    );
    assert!(listing.contains(&format!("files/{file_id}.thumbnail")));
    // Unattached uploads are removed from the bucket too.
    let (_, lone) = upload(&app, Some(&alice.access_token), "lone.txt", b"bye".to_vec()).await;
    let lone_id = lone["attachment"]["fileId"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        leetchat_server::files::sweep_unattached(&app.state, Duration::ZERO)
            .await
            .unwrap(),
        1
    );
    let listing = reqwest::get(format!("{}/leetchat-uploads?list-type=2", s3.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!listing.contains(&lone_id));
}
