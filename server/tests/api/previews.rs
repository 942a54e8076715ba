//! Link previews (extension, docs/protocol.md 8.13): fetched from a local
//! web site the tests run, pushed as `message.link_preview`, replayed by
//! `sync`, cached per URL, and never fetched from a private, loopback or
//! link-local address that the operator has not allowed, also after DNS
//! and after a redirect.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, WsClient, group_id, send};

/// A small web site on 127.0.0.1 that counts what it serves.
struct Site {
    port: u16,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Site {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn picture() -> Vec<u8> {
    let img = image::RgbImage::from_fn(400, 300, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

impl Site {
    async fn start() -> Site {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let counted = hits.clone();
        let page = |title: &'static str| {
            move || async move {
                html(format!(
                    r#"<!doctype html><html><head><title>plain</title>
                    <meta property="og:title" content="{title}">
                    <meta property="og:description" content="All about {title}">
                    <meta property="og:site_name" content="Test Site">
                    <meta property="og:image" content="/picture.png">
                    </head><body>hello</body></html>"#
                ))
            }
        };
        let router = axum::Router::new()
            .route("/page", get(page("Docs page")))
            .route("/other", get(page("Other page")))
            .route(
                "/picture.png",
                get(|| async { ([(header::CONTENT_TYPE, "image/png")], picture()) }),
            )
            .route(
                // Out of the trusted host, to one that is not.
                "/redirect-away",
                get(move || async move {
                    (
                        StatusCode::FOUND,
                        [(header::LOCATION, format!("http://localhost:{port}/page"))],
                    )
                }),
            )
            .route(
                "/redirect-here",
                get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/page")]) }),
            )
            .route("/plain", get(|| async { "just text" }))
            .route(
                "/big",
                get(|| async {
                    let mut body =
                        String::from("<html><head><title>A big page</title></head><body>");
                    body.push_str(&"x".repeat(3 << 20));
                    html(body)
                }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    html("<title>too late</title>".into())
                }),
            )
            .layer(axum::middleware::from_fn(
                move |req: axum::extract::Request, next: axum::middleware::Next| {
                    let counted = counted.clone();
                    async move {
                        *counted
                            .lock()
                            .unwrap()
                            .entry(req.uri().path().to_owned())
                            .or_default() += 1;
                        next.run(req).await
                    }
                },
            ));
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Site { port, hits, task }
    }

    /// A link to `path` on the trusted host (127.0.0.1).
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

/// A server whose previews may fetch 127.0.0.1 (the site) and nothing
/// else that is not public.
async fn spawn(b: Backend) -> TestApp {
    TestApp::spawn_with(b, |c| {
        c.link_previews.allow_hosts = vec!["127.0.0.1".into()];
        c.link_previews.timeout = Duration::from_secs(2);
    })
    .await
}

/// Sums `leetchat_link_previews_total{outcome=...}` over every node.
async fn outcomes(app: &TestApp, outcome: &str) -> u64 {
    let prefix = format!("leetchat_link_previews_total{{outcome=\"{outcome}\"}} ");
    let mut n = 0;
    for text in app.node_metrics().await {
        n += text
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0) as u64;
    }
    n
}

/// Waits until the nodes have counted `want` fetches ending in `outcome`.
async fn wait_outcomes(app: &TestApp, outcome: &str, want: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let n = outcomes(app, outcome).await;
        if n >= want {
            assert_eq!(n, want, "more {outcome} outcomes than links");
            return;
        }
        if tokio::time::Instant::now() > deadline {
            let all: Vec<String> = app
                .node_metrics()
                .await
                .iter()
                .flat_map(|t| {
                    t.lines()
                        .filter(|l| l.starts_with("leetchat_link_previews"))
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .collect();
            panic!("{n} of {want} {outcome} outcomes: {all:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn events_of(resp: &Value, room: &str) -> Vec<Value> {
    resp["rooms"][room]["events"].as_array().cloned().unwrap()
}

async fn history(c: &mut WsClient, room: &str) -> Vec<Value> {
    c.ok("message.history", json!({"roomId": room})).await["messages"]
        .as_array()
        .unwrap()
        .clone()
}

async fn a_link_gets_a_preview_pushed_replayed_and_cached(b: Backend) {
    let site = Site::start().await;
    let app = spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let room = group_id(&mut a, "g", &[&bob]).await;
    bc.push("room.created").await;

    let link = site.url("/page#intro");
    let sent = send(&mut a, &room, &format!("read [this]({link}) please")).await;
    assert!(sent.get("linkPreview").is_none(), "not fetched yet: {sent}");
    let created = bc.push("message.received").await;
    let pushed = bc.push("message.link_preview").await;
    assert_eq!(pushed["roomId"], room.as_str());
    assert_eq!(pushed["messageId"], sent["messageId"]);
    assert_eq!(
        pushed["seq"].as_i64().unwrap(),
        created["message"]["seq"].as_i64().unwrap() + 1,
        "the preview takes the room's next seq"
    );
    let p = &pushed["linkPreview"];
    assert_eq!(
        p["url"],
        site.url("/page"),
        "the fragment is not part of it"
    );
    assert_eq!(p["title"], "Docs page");
    assert_eq!(p["description"], "All about Docs page");
    assert_eq!(p["siteName"], "Test Site");
    let image = &p["image"];
    assert!(
        image["width"].as_i64().unwrap() <= 320,
        "a thumbnail: {image}"
    );
    assert_eq!(
        image["width"].as_i64().unwrap() * 3,
        image["height"].as_i64().unwrap() * 4
    );
    // The sender's other views agree: the sender's own connection is told too.
    assert_eq!(a.push("message.link_preview").await["linkPreview"], *p);

    // Read back: history and a sync from the start carry it.
    let page = history(&mut bc, &room).await;
    let m = page
        .iter()
        .find(|m| m["messageId"] == sent["messageId"])
        .unwrap();
    assert_eq!(m["linkPreview"], *p);
    let resp = bc.ok("sync", json!({"since": {room.clone(): 0}})).await;
    let replayed: Vec<Value> = events_of(&resp, &room)
        .into_iter()
        .filter(|e| e["event"] == "message.link_preview")
        .collect();
    assert_eq!(replayed.len(), 1, "{resp}");
    assert_eq!(replayed[0]["data"]["linkPreview"], *p);

    // The picture: for members, never for others.
    let file = image["fileId"].as_str().unwrap();
    for path in [
        format!("/api/files/{file}"),
        format!("/api/files/{file}/thumbnail"),
    ] {
        let resp = app
            .http
            .get(app.url(&path))
            .bearer_auth(&bob.access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let bytes = resp.bytes().await.unwrap();
        let img = image::load_from_memory(&bytes).expect("a picture");
        assert!(img.width() <= 320 && img.height() <= 320);
        let (status, _) = app.get(&path, Some(&carol.access_token)).await;
        assert_eq!(status, 403, "a stranger may not read {path}");
    }

    // The same link again: from the cache, in the message itself, no fetch.
    let again = send(&mut a, &room, &site.url("/page")).await;
    assert_eq!(again["linkPreview"], *p);
    assert_eq!(site.hits("/page"), 1, "fetched once");
    assert_eq!(site.hits("/picture.png"), 1);
    bc.no_push("message.link_preview", Duration::from_millis(300))
        .await;
    wait_outcomes(&app, "ok", 1).await;
}

async fn links_to_private_addresses_are_never_fetched(b: Backend) {
    let site = Site::start().await;
    let app = spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let room = group_id(&mut a, "g", &[&bob]).await;
    bc.push("room.created").await;
    let port = site.port;
    let links = [
        // A name that resolves to loopback (only the address 127.0.0.1 is allowed).
        format!("http://localhost:{port}/page"),
        // Address literals: loopback (v6), private, link-local (cloud metadata).
        format!("http://[::1]:{port}/page"),
        "http://10.0.0.1/".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        // Allowed host, redirected to one that is not.
        site.url("/redirect-away"),
    ];
    for l in &links {
        // As an autolink: a bare `[::1]` is not taken for a link by linkify.
        send(&mut a, &room, &format!("see <{l}>")).await;
    }
    wait_outcomes(&app, "address", links.len() as u64).await;
    assert_eq!(
        site.hits("/page"),
        0,
        "nothing behind a refusal was fetched"
    );
    assert_eq!(site.hits("/redirect-away"), 1);
    bc.no_push("message.link_preview", Duration::from_millis(300))
        .await;

    // A redirect that stays on the allowed host is followed.
    send(&mut a, &room, &site.url("/redirect-here")).await;
    let p = bc.push("message.link_preview").await;
    assert_eq!(p["linkPreview"]["title"], "Docs page");
    assert_eq!(site.hits("/page"), 1);
}

async fn edits_replace_or_drop_the_preview_and_deletes_remove_it(b: Backend) {
    let site = Site::start().await;
    let app = spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let room = group_id(&mut a, "g", &[&bob]).await;
    bc.push("room.created").await;
    let m = send(&mut a, &room, &site.url("/page")).await;
    let id = m["messageId"].clone();
    let first = bc.push("message.link_preview").await["linkPreview"].clone();
    let file = first["image"]["fileId"].as_str().unwrap().to_owned();

    // Another link: the edit drops the old preview, the new one follows.
    let edited = a
        .ok(
            "message.edit",
            json!({"messageId": id, "content": format!("now {}", site.url("/other"))}),
        )
        .await;
    assert!(edited["message"].get("linkPreview").is_none(), "{edited}");
    assert!(
        bc.push("message.edited").await["message"]
            .get("linkPreview")
            .is_none()
    );
    let second = bc.push("message.link_preview").await;
    assert_eq!(second["linkPreview"]["title"], "Other page");

    // The same link with other words keeps it; no link drops it.
    let kept = a
        .ok(
            "message.edit",
            json!({"messageId": id, "content": format!("still {}", site.url("/other"))}),
        )
        .await;
    assert_eq!(kept["message"]["linkPreview"], second["linkPreview"]);
    let dropped = a
        .ok(
            "message.edit",
            json!({"messageId": id, "content": "no link now"}),
        )
        .await;
    assert!(dropped["message"].get("linkPreview").is_none());
    bc.no_push("message.link_preview", Duration::from_millis(500))
        .await;

    // Back to the first link: attached at once from the cache.
    let back = a
        .ok(
            "message.edit",
            json!({"messageId": id, "content": site.url("/page")}),
        )
        .await;
    assert_eq!(back["message"]["linkPreview"], first);
    assert_eq!(site.hits("/page"), 1);

    // Sync replays the old preview event with the message as it is now.
    let resp = bc.ok("sync", json!({"since": {room.clone(): 0}})).await;
    let evs = events_of(&resp, &room);
    let previews: Vec<&Value> = evs
        .iter()
        .filter(|e| e["event"] == "message.link_preview")
        .collect();
    assert_eq!(previews.len(), 2);
    for e in &previews {
        assert_eq!(e["data"]["linkPreview"], first, "as the message is now");
    }

    // Deleted: no preview anywhere, and its picture is no longer shared.
    a.ok("message.delete", json!({"messageId": id})).await;
    let page = history(&mut bc, &room).await;
    let gone = page.iter().find(|m| m["messageId"] == id).unwrap();
    assert!(gone.get("linkPreview").is_none(), "{gone}");
    let (status, _) = app
        .get(&format!("/api/files/{file}"), Some(&bob.access_token))
        .await;
    assert_eq!(status, 403);
    let resp = bc.ok("sync", json!({"since": {room.clone(): 0}})).await;
    for e in events_of(&resp, &room) {
        if e["event"] == "message.link_preview" {
            assert!(e["data"].get("linkPreview").is_none(), "{e}");
        }
    }
}

async fn pages_that_are_not_html_too_slow_or_huge_are_handled(b: Backend) {
    let site = Site::start().await;
    let app = spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let room = group_id(&mut a, "g", &[&bob]).await;
    bc.push("room.created").await;
    send(&mut a, &room, &site.url("/plain")).await;
    send(&mut a, &room, &site.url("/slow")).await;
    wait_outcomes(&app, "not_html", 1).await;
    wait_outcomes(&app, "timeout", 1).await;
    // A huge page is read up to the limit: its head is enough.
    send(&mut a, &room, &site.url("/big")).await;
    let p = bc.push("message.link_preview").await;
    assert_eq!(p["linkPreview"]["title"], "A big page");
    assert!(p["linkPreview"].get("image").is_none());
    // A link that gave nothing is not fetched again for the next message.
    send(&mut a, &room, &site.url("/plain")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(site.hits("/plain"), 1);
    // Links in code, and other schemes, are not links to preview.
    send(
        &mut a,
        &room,
        &format!("`{}` and ftp://example.com/x", site.url("/other")),
    )
    .await;
    bc.no_push("message.link_preview", Duration::from_millis(500))
        .await;
    assert_eq!(site.hits("/other"), 0);
}

async fn with_previews_off_nothing_is_fetched(b: Backend) {
    let site = Site::start().await;
    let app = TestApp::spawn_with(b, |c| {
        c.link_previews.enabled = false;
        c.link_previews.allow_hosts = vec!["127.0.0.1".into()];
    })
    .await;
    let alice = app.register("alice").await;
    let mut a = app.connect(&alice).await;
    let room = group_id(&mut a, "g", &[]).await;
    let m = send(&mut a, &room, &site.url("/page")).await;
    assert!(m.get("linkPreview").is_none());
    a.no_push("message.link_preview", Duration::from_millis(500))
        .await;
    assert_eq!(site.hits("/page"), 0);
}

crate::on_both_databases!(
    a_link_gets_a_preview_pushed_replayed_and_cached,
    links_to_private_addresses_are_never_fetched,
    edits_replace_or_drop_the_preview_and_deletes_remove_it,
    pages_that_are_not_html_too_slow_or_huge_are_handled,
    with_previews_off_nothing_is_fetched,
);
