//! `message.search` (protocol 9.7) on every backend: who sees what, how
//! words match, paging, bad input, and the background index of messages
//! stored before the index existed.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, WsClient, group_id, send};

/// One page: (message ids, nextCursor).
async fn page(c: &mut WsClient, req: Value) -> (Vec<String>, Option<String>) {
    let ack = c.ok("message.search", req).await;
    let ids = ack["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["message"]["messageId"].as_str().unwrap().to_owned())
        .collect();
    (ids, ack["nextCursor"].as_str().map(str::to_owned))
}

/// Every result of `query`, page by page.
async fn all(c: &mut WsClient, query: &str, room: Option<&str>, limit: i64) -> Vec<String> {
    let mut out = Vec::new();
    let mut before: Option<String> = None;
    for _ in 0..100 {
        let mut req = json!({"query": query, "limit": limit});
        if let Some(r) = room {
            req["roomId"] = json!(r);
        }
        if let Some(b) = &before {
            req["before"] = json!(b);
        }
        let (ids, next) = page(c, req).await;
        out.extend(ids);
        match next {
            Some(n) => before = Some(n),
            None => return out,
        }
    }
    panic!("paging never ended");
}

fn id(m: &Value) -> String {
    m["messageId"].as_str().unwrap().to_owned()
}

async fn only_members_now_see_a_rooms_messages(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let mut cc = app.connect(&carol).await;
    let ab = group_id(&mut a, "ab", &[&bob]).await;
    let ac = group_id(&mut a, "ac", &[&carol]).await;
    let in_ab = send(&mut a, &ab, "the launch is on friday").await;
    let in_ac = send(&mut a, &ac, "launch plan for carol").await;
    let deleted = send(&mut a, &ab, "launch codes, delete me").await;
    a.ok("message.delete", json!({"messageId": deleted["messageId"]}))
        .await;

    assert_eq!(
        all(&mut a, "launch", None, 20).await,
        [id(&in_ac), id(&in_ab)]
    );
    assert_eq!(all(&mut bc, "launch", None, 20).await, [id(&in_ab)]);
    assert_eq!(all(&mut cc, "launch", None, 20).await, [id(&in_ac)]);
    assert_eq!(
        all(&mut a, "launch", Some(&ab), 20).await,
        [id(&in_ab)],
        "roomId narrows to one room"
    );
    // A room one is not in, or that does not exist: forbidden, alike.
    cc.fails(
        "message.search",
        json!({"query": "launch", "roomId": ab}),
        "forbidden",
    )
    .await;
    cc.fails(
        "message.search",
        json!({"query": "launch", "roomId": "no-such-room"}),
        "forbidden",
    )
    .await;

    // A hit carries the whole message as it is now.
    let ack = bc.ok("message.search", json!({"query": "friday"})).await;
    let m = &ack["results"][0]["message"];
    assert_eq!(m["content"], "the launch is on friday");
    assert_eq!(m["roomId"], json!(ab));
    assert_eq!(m["senderId"], json!(alice.user_id));

    // Bob leaves: the room's messages leave his results at once.
    bc.ok(
        "room.members.remove",
        json!({"roomId": ab, "userId": bob.user_id}),
    )
    .await;
    assert!(all(&mut bc, "launch", None, 20).await.is_empty());
    bc.fails(
        "message.search",
        json!({"query": "launch", "roomId": ab}),
        "forbidden",
    )
    .await;
    // Carol is added to ab: she finds its history too.
    a.ok(
        "room.members.add",
        json!({"roomId": ab, "userIds": [carol.user_id]}),
    )
    .await;
    assert_eq!(
        all(&mut cc, "launch", None, 20).await,
        [id(&in_ac), id(&in_ab)]
    );
}

async fn edits_replace_the_words_and_deletes_remove_them(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let room = group_id(&mut a, "g", &[&bob]).await;
    let m = send(&mut a, &room, "meet at the harbour").await;
    assert_eq!(all(&mut bc, "harbour", None, 20).await, [id(&m)]);

    a.ok(
        "message.edit",
        json!({"messageId": m["messageId"], "content": "meet at the station"}),
    )
    .await;
    assert!(all(&mut bc, "harbour", None, 20).await.is_empty());
    let ack = bc.ok("message.search", json!({"query": "station"})).await;
    assert_eq!(
        ack["results"][0]["message"]["content"],
        "meet at the station"
    );
    assert!(ack["results"][0]["message"]["editedAt"].is_string());

    a.ok("message.delete", json!({"messageId": m["messageId"]}))
        .await;
    for q in ["station", "meet", "m"] {
        assert!(all(&mut bc, q, None, 20).await.is_empty(), "{q}");
    }
    // Editing a deleted message stays refused and finds nothing either.
    a.fails(
        "message.edit",
        json!({"messageId": m["messageId"], "content": "meet again"}),
        "conflict",
    )
    .await;
    assert!(all(&mut bc, "again", None, 20).await.is_empty());
}

async fn words_fold_case_and_accents_and_the_last_is_a_prefix(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let mut a = app.connect(&alice).await;
    let room = group_id(&mut a, "g", &[]).await;
    let cafe = send(&mut a, &room, "Rendez-vous au Café Crème, 8h").await;
    let tokyo = send(&mut a, &room, "東京タワーで会おう").await;
    let deploy = send(&mut a, &room, "Deploying v2.1 to production tonight").await;
    let plain = send(&mut a, &room, "the cafe down the road").await;

    let cases: &[(&str, &[&Value])] = &[
        ("cafe", &[&plain, &cafe]),
        ("CAFÉ", &[&plain, &cafe]),
        ("café crème", &[&cafe]),
        ("CAFE CREM", &[&cafe]),
        ("rendez vous", &[&cafe]),
        ("8h", &[&cafe]),
        ("東京", &[&tokyo]),
        ("タワー", &[&tokyo]),
        ("deploy", &[&deploy]),
        ("deploy production", &[]), // only the last word is a prefix
        ("v2 1", &[&deploy]),
        ("v2.1 prod", &[&deploy]),
        ("tonight production", &[&deploy]),
        ("Production, tonight!", &[&deploy]),
        ("the road", &[&plain]),
        ("crème cafe road", &[]),
        ("xylophone", &[]),
    ];
    for (q, want) in cases {
        let got = all(&mut a, q, None, 20).await;
        let want: Vec<String> = want.iter().map(|m| id(m)).collect();
        assert_eq!(got, want, "query {q:?}");
    }
}

async fn attachment_names_are_searchable(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let room = group_id(&mut a, "g", &[&bob]).await;
    let part = reqwest::multipart::Part::bytes(b"%PDF-1.4 quarterly numbers".to_vec())
        .file_name("Quarterly-Report.pdf")
        .mime_str("application/pdf")
        .unwrap();
    let form = reqwest::multipart::Form::new().part("file", part);
    let resp = app
        .http
        .post(app.url("/api/files"))
        .bearer_auth(&alice.access_token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let file: Value = resp.json().await.unwrap();
    let m = a
        .ok(
            "message.send",
            json!({"roomId": room, "type": "file", "content": "numbers for Q3", "tempId": "f1",
                   "attachments": [file["attachment"]["fileId"]]}),
        )
        .await["message"]
        .clone();
    assert_eq!(all(&mut bc, "quarterly", None, 20).await, [id(&m)]);
    assert_eq!(all(&mut bc, "report pdf", None, 20).await, [id(&m)]);
    // An edit keeps the attachment's words.
    a.ok(
        "message.edit",
        json!({"messageId": m["messageId"], "content": "numbers for Q4"}),
    )
    .await;
    assert_eq!(all(&mut bc, "quarterly q4", None, 20).await, [id(&m)]);
    assert!(all(&mut bc, "q3", None, 20).await.is_empty());
}

async fn pages_run_newest_first_without_gaps_or_repeats(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let mut bc = app.connect(&bob).await;
    let r1 = group_id(&mut a, "one", &[&bob]).await;
    let r2 = group_id(&mut bc, "two", &[&alice]).await;
    let mut sent = Vec::new();
    for i in 0..37 {
        let (c, room) = if i % 3 == 0 {
            (&mut bc, &r2)
        } else {
            (&mut a, &r1)
        };
        sent.push(id(&send(c, room, &format!("report number {i}")).await));
        if i % 5 == 0 {
            send(&mut a, &r1, "unrelated chatter").await;
        }
    }
    let newest_first: Vec<String> = sent.iter().rev().cloned().collect();

    // The default page is 20, the largest 50; any page size gives the same sequence.
    let (first, next) = page(&mut a, json!({"query": "report"})).await;
    assert_eq!(first.len(), 20);
    assert!(next.is_some());
    let (whole, next) = page(&mut a, json!({"query": "report", "limit": 500})).await;
    assert_eq!(whole.len(), 37);
    assert_eq!(next, None, "the last page has no cursor");
    assert_eq!(whole, newest_first);
    for limit in [1, 7, 10, 36, 37] {
        assert_eq!(
            all(&mut a, "report", None, limit).await,
            newest_first,
            "limit {limit}"
        );
    }

    // Messages that arrive while paging do not shift the pages behind the cursor.
    let (p1, cursor) = page(&mut a, json!({"query": "report", "limit": 10})).await;
    for i in 0..3 {
        send(&mut bc, &r2, &format!("report late {i}")).await;
    }
    let mut rest = Vec::new();
    let mut before = cursor;
    while let Some(c) = before {
        let (ids, next) = page(&mut a, json!({"query": "report", "limit": 10, "before": c})).await;
        rest.extend(ids);
        before = next;
    }
    let mut seen: Vec<String> = p1;
    seen.extend(rest);
    assert_eq!(seen, newest_first, "no gap, no repeat");
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len());
}

async fn bad_queries_cursors_and_limits_are_invalid(b: Backend) {
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let mut a = app.connect(&alice).await;
    let room = group_id(&mut a, "g", &[]).await;
    send(&mut a, &room, "something to find").await;
    let foreign_cursor = match b {
        Backend::Sqlite => "p1700000000000.0190",
        _ => "s42",
    };
    for (data, mentions) in [
        (json!({"query": ""}), "empty"),
        (json!({"query": "   "}), "empty"),
        (json!({"query": "x".repeat(201)}), "200"),
        (json!({"query": "?!…"}), "letters or digits"),
        (json!({}), "query"),
        (json!({"query": 5}), "query"),
        (json!({"query": "find", "limit": 0}), "limit"),
        (json!({"query": "find", "limit": "ten"}), "limit"),
        (json!({"query": "find", "before": "yesterday"}), "before"),
        (json!({"query": "find", "before": foreign_cursor}), "before"),
        (json!({"query": "find", "before": 17}), "before"),
        (json!({"query": "find", "roomId": 17}), "roomId"),
    ] {
        let e = a.fails("message.search", data.clone(), "invalid").await;
        assert!(
            e["message"].as_str().unwrap().contains(mentions),
            "{data} -> {e}"
        );
    }
    // 200 characters is fine; a big limit is capped at 50.
    let ack = a
        .ok(
            "message.search",
            json!({"query": "f".repeat(200), "limit": 1000}),
        )
        .await;
    assert!(ack["results"].as_array().unwrap().is_empty());
    // The connection is still good.
    assert_eq!(all(&mut a, "something", None, 20).await.len(), 1);
}

async fn messages_stored_before_the_index_are_indexed_at_start(b: Backend) {
    let mut app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let mut a = app.connect(&alice).await;
    let room = group_id(&mut a, "g", &[]).await;
    let mut sent = Vec::new();
    for i in 0..450 {
        sent.push(id(&send(&mut a, &room, &format!("archive entry {i}")).await));
    }
    let edited = sent[10].clone();
    drop(a);
    // Forget the index, as a database from before it existed.
    let db = app.state.db.clone();
    let forget = match b {
        Backend::Sqlite => vec![
            "DELETE FROM message_search",
            "UPDATE messages SET search_rowid = NULL",
        ],
        _ => vec!["UPDATE messages SET search = NULL"],
    };
    for sql in forget {
        sqlx::query(sql).execute(db.writer()).await.unwrap();
    }
    app.restart(false).await;
    let mut a = app.connect(&alice).await;
    // New messages are found at once, whatever the indexer is doing.
    let fresh = id(&send(&mut a, &room, "archive entry fresh").await);
    a.ok(
        "message.edit",
        json!({"messageId": edited, "content": "rewritten before indexing"}),
    )
    .await;
    let mut want: Vec<String> = sent
        .iter()
        .rev()
        .filter(|m| **m != edited)
        .cloned()
        .collect();
    want.insert(0, fresh);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let got = all(&mut a, "archive entry", None, 50).await;
        if got == want {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not indexed in time: {} of {} found",
            got.len(),
            want.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(all(&mut a, "rewritten", None, 50).await, [edited]);
}

crate::on_both_databases!(
    only_members_now_see_a_rooms_messages,
    edits_replace_the_words_and_deletes_remove_them,
    words_fold_case_and_accents_and_the_last_is_a_prefix,
    attachment_names_are_searchable,
    pages_run_newest_first_without_gaps_or_repeats,
    bad_queries_cursors_and_limits_are_invalid,
    messages_stored_before_the_index_are_indexed_at_start,
    a_named_room_is_searched_only_for_its_members,
);

/// The query itself checks membership of a named room, so a removal between
/// the handler's check and the search cannot let a page through.
async fn a_named_room_is_searched_only_for_its_members(b: Backend) {
    use leetchat_protocol::search::Query;
    use leetchat_server::db::search::{Before, Scope, search};
    let app = TestApp::spawn(b).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut a = app.connect(&alice).await;
    let room = group_id(&mut a, "g", &[]).await;
    send(&mut a, &room, "private plans").await;
    let db = app.state.db.clone();
    let mut conn = db.reader().acquire().await.unwrap();
    let q = Query::parse("plans").unwrap();
    for (user, want) in [(&alice.user_id, 1), (&bob.user_id, 0)] {
        let hits = search(
            &mut conn,
            db.kind,
            &q,
            Scope::Room { room: &room, user },
            &Before::Newest,
            20,
        )
        .await
        .unwrap();
        assert_eq!(hits.len(), want, "{user}");
    }
}
