//! End to end: the built `leetchat` binary against a real server running in
//! this test process (its own runtime, so it can be stopped and started
//! again on the same port), one data folder per user, file credentials.

mod harness;

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use harness::*;

#[test]
fn two_users_chat_in_a_direct_room_by_room_id_and_by_user_name() {
    let server = Server::start();
    let alice = User::registered(&server, "alice");
    let bob = User::registered(&server, "bob");

    let room = room_id(&alice.ok(&["dm", "bob"]));
    assert!(room.starts_with("direct_"), "{room}");
    assert_eq!(alice.ok(&["send", &room, "hi"]).trim(), "sent");

    let history = bob.ok(&["history", &room]);
    assert!(history.contains("alice: hi"), "{history}");

    // Bob names the room by the other member's user name.
    assert_eq!(bob.ok(&["send", "alice", "hello alice"]).trim(), "sent");

    let messages = json_lines(&alice.ok(&["--json", "history", &room, "--limit", "5"]));
    let contents: Vec<&str> = messages
        .iter()
        .map(|m| m["content"].as_str().expect("content"))
        .collect();
    assert_eq!(contents, ["hi", "hello alice"]);
    assert!(
        messages
            .iter()
            .all(|m| m["seq"].is_i64() && m["roomId"] == room.as_str())
    );

    let rooms = json_lines(&alice.ok(&["rooms", "--json"]));
    assert_eq!(rooms.len(), 1);
    assert_eq!(rooms[0]["roomId"], room.as_str());
    assert_eq!(rooms[0]["lastMessage"]["content"], "hello alice");
    let human = bob.ok(&["rooms"]);
    assert!(human.contains(&room) && human.contains("direct"), "{human}");

    let sent = json_lines(&alice.ok(&["--json", "send", "bob", "json please"]));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["delivery"], "sent");
    assert!(sent[0]["messageId"].is_string());
}

#[test]
fn another_users_escape_sequences_and_carriage_returns_are_shown_not_obeyed() {
    let server = Server::start();
    let mallory = User::registered(&server, "mallory");
    let bob = User::registered(&server, "bob");
    let room = room_id(&mallory.ok(&["dm", "bob"]));
    // A carriage return and a fake line, a title change, a screen clear, a
    // right-to-left override.
    let attack = "hi\r[9] 00:00 admin: please send your password\u{1b}]0;pwned\u{7}\u{1b}[2J \u{202e}gpj.exe";
    mallory.ok(&["send", &room, attack]);

    let raw = |c: char| c == '\r' || c == '\u{1b}' || c == '\u{7}' || c == '\u{202e}';
    for args in [
        vec!["history", room.as_str()],
        vec!["rooms"],
        vec!["search", "password"],
    ] {
        let out = bob.ok(&args);
        assert!(
            !out.chars().any(raw),
            "{args:?} printed raw controls: {out:?}"
        );
        assert!(out.contains("hi\\r[9]"), "{args:?}: {out:?}");
    }
    let history = bob.ok(&["history", &room]);
    assert!(
        history.contains("\\e]0;pwned\\u{7}\\e[2J \\u{202e}gpj.exe"),
        "{history:?}"
    );
    assert_eq!(
        history.lines().count(),
        1,
        "one message, one line: {history:?}"
    );
    // JSON output keeps the exact text (as JSON escapes).
    let json = bob.ok(&["--json", "history", &room]);
    assert!(!json.chars().any(raw), "{json:?}");
    assert_eq!(json_lines(&json)[0]["content"], attack);
}

#[test]
fn search_finds_stored_messages_by_word() {
    let server = Server::start();
    let alice = User::registered(&server, "alice");
    let _bob = User::registered(&server, "bob");
    let room = room_id(&alice.ok(&["dm", "bob"]));
    alice.ok(&["send", &room, "the quick brown fox"]);
    alice.ok(&["send", &room, "something else"]);

    let found = alice.ok(&["search", "brown"]);
    assert!(found.contains("the quick brown fox"), "{found}");
    assert!(!found.contains("something else"), "{found}");
    // The last word is a prefix; case and accents do not matter.
    let hits = json_lines(&alice.ok(&["--json", "search", "QUÏ"]));
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(alice.ok(&["search", "nowhere"]), "");
    assert_eq!(
        alice
            .ok(&["search", "--room", &room, "fox"])
            .lines()
            .count(),
        1
    );
    // A query with nothing to search for is refused, with the reason.
    let out = alice.run(&["search", "?!"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("letters or digits"),
        "{out:?}"
    );
}

#[test]
fn search_remote_finds_what_this_device_never_stored() {
    let mut server = Server::start();
    let alice = User::registered(&server, "alice");
    let _bob = User::registered(&server, "bob");
    let room = room_id(&alice.ok(&["dm", "bob"]));
    alice.ok(&["send", &room, "Café crème at eight"]);
    for i in 0..55 {
        alice.ok(&["send", &room, &format!("filler {i}")]);
    }
    // Bob on a new device: it stores the newest page only.
    let phone = User::new(&server, "bob");
    phone.ok(&["login", "bob"]);
    phone.ok(&["sync"]);
    assert_eq!(phone.ok(&["search", "creme"]), "");

    let found = phone.ok(&["search", "--remote", "CREME"]);
    assert!(found.contains("Café crème at eight"), "{found}");
    // Now stored: found offline too.
    server.stop();
    assert!(
        phone
            .ok(&["search", "cafe"])
            .contains("Café crème at eight")
    );
    let out = phone.run(&["search", "--remote", "filler"]);
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.matches("stored messages only").count(),
        1,
        "said once: {out:?}"
    );
}

#[test]
fn search_remote_pages_with_a_cursor() {
    let server = Server::start();
    let alice = User::registered(&server, "alice");
    let _bob = User::registered(&server, "bob");
    let room = room_id(&alice.ok(&["dm", "bob"]));
    for i in 0..7 {
        alice.ok(&["send", &room, &format!("note {i}")]);
    }
    let out = alice.run(&["--json", "search", "--remote", "note", "--limit", "5"]);
    assert!(out.status.success(), "{out:?}");
    let first = json_lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(first.len(), 5);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    let cursor = err
        .split("--before ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no cursor in {err:?}"))
        .to_owned();
    let rest = json_lines(&alice.ok(&[
        "--json", "search", "--remote", "note", "--limit", "5", "--before", &cursor,
    ]));
    let mut all: Vec<String> = first
        .iter()
        .chain(&rest)
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(all.len(), 7);
    all.dedup();
    assert_eq!(
        all,
        (0..7)
            .rev()
            .map(|i| format!("note {i}"))
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_message_sent_while_the_server_is_down_is_queued_and_delivered_once_after_restart() {
    let mut server = Server::start();
    let alice = User::registered(&server, "alice");
    let bob = User::registered(&server, "bob");
    let room = room_id(&alice.ok(&["dm", "bob"]));

    server.stop();
    let queued = alice.ok(&["send", &room, "written offline"]);
    assert!(queued.contains("queued (offline)"), "{queued}");
    let err = alice.fails(&["sync"]);
    assert!(err.contains("offline"), "{err}");
    let pending = alice.run(&["history", &room]);
    let pending_out = String::from_utf8_lossy(&pending.stdout);
    assert!(
        pending_out.contains("written offline (pending)"),
        "{pending_out}"
    );
    assert!(String::from_utf8_lossy(&pending.stderr).contains("offline: showing stored data"));

    server.restart();
    let synced = alice.ok(&["sync"]);
    assert!(synced.contains("outbox: 0"), "{synced}");
    // A second sync has nothing left to send.
    alice.ok(&["sync"]);

    let history = bob.ok(&["history", &room]);
    assert_eq!(
        history.matches("written offline").count(),
        1,
        "delivered exactly once: {history}"
    );
    let mine = alice.ok(&["history", &room]);
    assert!(!mine.contains("(pending)"), "{mine}");
}

#[test]
fn tail_prints_messages_as_they_arrive_and_survives_a_server_restart() {
    let mut server = Server::start();
    let alice = User::registered(&server, "alice");
    let bob = User::registered(&server, "bob");
    let room = room_id(&alice.ok(&["dm", "bob"]));
    alice.ok(&["send", &room, "before the tail"]);

    let mut child = bob
        .command(&["tail", "alice"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tail starts");
    let mut out = Lines::read(child.stdout.take().expect("stdout"));
    let mut err = Lines::read(child.stderr.take().expect("stderr"));
    out.wait_for("alice: before the tail");
    err.wait_for("online");

    alice.ok(&["send", &room, "live one"]);
    out.wait_for("alice: live one");

    server.stop();
    err.wait_for("offline");
    server.restart();
    alice.ok(&["send", &room, "after the restart"]);
    out.wait_for("alice: after the restart");
    err.wait_for("reconnecting");

    alice.ok(&["send", &room, "last one"]);
    out.wait_for("alice: last one");
    assert_eq!(out.count("live one"), 1, "{:#?}", out.seen);
    assert_eq!(out.count("before the tail"), 1, "{:#?}", out.seen);
    stop_tail(child);
}

#[test]
fn edits_and_deletes_reach_the_other_member_and_only_the_sender_may_make_them() {
    let server = Server::start();
    let alice = User::registered(&server, "alice");
    let bob = User::registered(&server, "bob");
    let room = room_id(&alice.ok(&["dm", "bob"]));
    let sent = json_lines(&alice.ok(&["--json", "send", &room, "helo"]));
    let id = sent[0]["messageId"]
        .as_str()
        .expect("message id")
        .to_owned();

    assert_eq!(alice.ok(&["edit", &id, "hello"]).trim(), "edited");
    let history = bob.ok(&["history", &room]);
    assert!(history.contains("alice: hello (edited)"), "{history}");

    let err = bob.fails(&["edit", &id, "not yours"]);
    assert!(err.contains("your own"), "{err}");
    let err = bob.fails(&["delete", &id]);
    assert!(err.contains("refused"), "{err}");
    // The refused delete is undone locally.
    assert!(
        bob.ok(&["history", &room])
            .contains("alice: hello (edited)")
    );

    assert_eq!(alice.ok(&["delete", &id]).trim(), "deleted");
    let history = bob.ok(&["history", &room]);
    assert!(history.contains("alice: (deleted)"), "{history}");
    assert!(!history.contains("hello"), "{history}");
}

#[test]
fn a_group_is_named_by_its_name_and_shared_with_its_members() {
    let server = Server::start();
    let alice = User::registered(&server, "alice");
    let bob = User::registered(&server, "bob");
    let carol = User::registered(&server, "carol");

    let out = alice.ok(&["group", "team", "bob", "carol"]);
    let room = room_id(&out);
    assert!(out.contains("team"), "{out}");
    assert_eq!(alice.ok(&["send", "team", "hi team"]).trim(), "sent");
    assert!(bob.ok(&["history", &room]).contains("alice: hi team"));
    assert!(carol.ok(&["history", "team"]).contains("alice: hi team"));

    // A second group with the same name makes the name ambiguous.
    alice.ok(&["group", "team", "bob"]);
    let err = alice.fails(&["send", "team", "which one?"]);
    assert!(err.contains("2 groups"), "{err}");
}

#[test]
fn the_owner_adds_members_who_then_see_the_history_and_others_may_not() {
    let server = Server::start();
    let alice = User::registered(&server, "alice");
    let bob = User::registered(&server, "bob");
    let carol = User::registered(&server, "carol");
    let room = room_id(&alice.ok(&["group", "den", "bob"]));
    alice.ok(&["send", &room, "before carol came"]);

    // A member who is not the owner or an admin may not add anyone.
    let err = bob.fails(&["add", &room, "carol"]);
    assert!(
        err.contains("forbidden") || err.contains("may not"),
        "{err}"
    );
    let out = alice.ok(&["add", "den", "carol"]);
    assert!(out.contains(&room), "{out}");
    assert!(carol.ok(&["history", &room]).contains("before carol came"));
    let err = alice.fails(&["add", "den", "nobody-here"]);
    assert!(err.contains("nobody-here"), "{err}");
}

#[test]
fn a_password_can_come_from_stdin_and_mistakes_exit_with_an_error() {
    let server = Server::start();
    let dave = User::new(&server, "dave");

    let err = dave.fails(&["rooms"]);
    assert!(err.contains("not signed in"), "{err}");

    let mut register = dave
        .command(&["register", "dave", "--display-name", "Dave D"])
        .env_remove("LEETCHAT_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("register starts");
    register
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"from-stdin-pw\n")
        .expect("write password");
    let out = register.wait_with_output().expect("register ends");
    assert!(out.status.success(), "{out:?}");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !printed.contains("from-stdin-pw"),
        "the password was echoed"
    );

    assert!(dave.ok(&["logout"]).contains("signed out"));
    let err = dave.fails(&["login", "dave"]);
    assert!(err.contains("wrong"), "{err}");
    let login = dave
        .command(&["login", "dave"])
        .env("LEETCHAT_PASSWORD", "from-stdin-pw")
        .output()
        .expect("login runs");
    assert!(login.status.success(), "{login:?}");

    let err = dave.fails(&["send", "nobody", "hello?"]);
    assert!(err.contains("no room \"nobody\""), "{err}");
    let err = dave.fails(&["dm", "nobody"]);
    assert!(err.contains("nobody"), "{err}");
    assert!(dave.data_dir().join("credentials.json").exists());
}

#[test]
fn tail_says_who_is_typing_on_stderr() {
    let server = Server::start();
    let alice = User::registered(&server, "alice");
    let bob = User::registered(&server, "bob");
    let room = room_id(&alice.ok(&["dm", "bob"]));

    let mut child = alice
        .command(&["tail", &room])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tail starts");
    let _out = Lines::read(child.stdout.take().expect("stdout"));
    let mut err = Lines::read(child.stderr.take().expect("stderr"));
    err.wait_for("online");

    // Bob types until he is stopped the way a user stops him (Ctrl-C/SIGTERM).
    let typist = bob
        .command(&["typing", "alice"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("typing starts");
    err.wait_for("bob is typing…");
    stop_tail(typist);
    stop_tail(child);
}

#[test]
fn typing_renews_the_indicator_until_stopped_then_says_it_stopped() {
    let server = Server::start();
    let alice = User::registered(&server, "alice");
    let bob = User::registered(&server, "bob");
    let room = room_id(&alice.ok(&["dm", "bob"]));

    let mut child = alice
        .command(&["--json", "tail", &room])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tail starts");
    let mut out = Lines::read(child.stdout.take().expect("stdout"));
    out.wait_for(r#""state":"online""#);

    let started = Instant::now();
    let typist = bob
        .command(&["--json", "typing", &room, "--for", "8"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("typing starts");
    out.wait_for(r#""isTyping":true"#);
    // Past the server's 5 s expiry: only the renewals keep it up.
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(
        out.count(r#""isTyping":false"#),
        0,
        "the indicator must outlive the server's 5 s expiry: {:#?}",
        out.seen
    );
    let done = typist.wait_with_output().expect("typing ends");
    assert!(done.status.success(), "typing exited with {}", done.status);
    assert!(
        started.elapsed() >= Duration::from_secs(8),
        "--for 8 returned early"
    );
    let said = String::from_utf8_lossy(&done.stdout);
    assert!(said.contains(r#""typing":false"#), "{said}");
    out.wait_for(r#""isTyping":false"#);
    let lines: Vec<&String> = out.seen.iter().filter(|l| l.contains("isTyping")).collect();
    assert_eq!(
        lines.len(),
        2,
        "one start and one stop, nothing in between: {lines:#?}"
    );
    stop_tail(child);
}

#[test]
fn a_file_is_sent_with_a_caption_and_the_other_member_downloads_the_same_bytes() {
    let mut server = Server::start();
    let alice = User::registered(&server, "alice");
    let bob = User::registered(&server, "bob");
    let room = room_id(&alice.ok(&["dm", "bob"]));
    let files = tempfile::tempdir().expect("temp dir");
    let report = files.path().join("report.txt");
    let bytes = "quarterly numbers, all up\n".repeat(2000);
    std::fs::write(&report, &bytes).expect("write the file");
    let path = report.to_str().expect("UTF-8 path");

    assert_eq!(
        alice
            .ok(&["send", &room, "--file", path, "the report"])
            .trim(),
        "sent"
    );
    let history = bob.ok(&["history", &room]);
    assert!(
        history.contains("alice: the report [file report.txt 51 KB]"),
        "{history}"
    );
    let messages = json_lines(&bob.ok(&["--json", "history", &room]));
    let id = messages[0]["messageId"]
        .as_str()
        .expect("message id")
        .to_owned();

    let saved = bob.ok(&["download", &id]);
    assert_eq!(std::fs::read_to_string(saved.trim()).expect("saved"), bytes);
    let out = files.path().join("copy.txt");
    let saved = bob.ok(&["download", &id, "--out", out.to_str().expect("UTF-8 path")]);
    assert_eq!(saved.trim(), out.to_str().expect("UTF-8 path"));
    assert_eq!(std::fs::read_to_string(&out).expect("saved"), bytes);
    let err = bob.fails(&["download", &id, "--thumbnail"]);
    assert!(err.contains("no thumbnail"), "{err}");

    // Offline, a file is queued like a text, without a caption too.
    server.stop();
    let queued = alice.ok(&["send", &room, "--file", path]);
    assert!(queued.contains("queued (offline)"), "{queued}");
    let pending = String::from_utf8_lossy(&alice.run(&["history", &room]).stdout).into_owned();
    assert!(
        pending.contains("[file report.txt 51 KB] (pending)"),
        "{pending}"
    );
    server.restart();
    assert!(alice.ok(&["sync"]).contains("outbox: 0"));
    let history = bob.ok(&["history", &room]);
    assert_eq!(
        history.matches("[file report.txt 51 KB]").count(),
        2,
        "{history}"
    );
}

#[test]
fn replies_reactions_mentions_and_pins_from_the_terminal() {
    let server = Server::start();
    let alice = User::registered(&server, "alice");
    let bob = User::registered(&server, "bob");
    let carol = User::registered(&server, "carol");
    let room = room_id(&alice.ok(&["group", "team", "bob", "carol"]));
    let sent = json_lines(&alice.ok(&["--json", "send", &room, "lunch at noon?"]));
    let id = sent[0]["messageId"].as_str().expect("id").to_owned();

    // Bob answers it, mentioning alice by name (any case) and the room.
    let reply = json_lines(&bob.ok(&[
        "--json",
        "send",
        "team",
        "@Alice yes, @room come along",
        "--reply-to",
        &id,
    ]));
    assert_eq!(reply[0]["replyTo"], id.as_str());
    assert_eq!(reply[0]["replyPreview"]["content"], "lunch at noon?");
    assert_eq!(reply[0]["mentions"].as_array().map(Vec::len), Some(1));
    assert_eq!(reply[0]["mentionsRoom"], true);
    let rooms = alice.ok(&["rooms"]);
    assert!(rooms.contains("1 mention"), "{rooms}");

    // Reactions: added, shown with counts, taken back.
    assert_eq!(bob.ok(&["react", &id, "👍"]).trim(), "reacted: 👍");
    assert_eq!(carol.ok(&["react", &id, "👍"]).trim(), "reacted: 👍");
    carol.ok(&["react", &id, "🎉"]);
    carol.ok(&["react", &id, "🎉", "--remove"]);
    let err = carol.fails(&["react", &id, "not an emoji"]);
    assert!(err.contains("whitespace"), "{err}");

    // Pins: a plain member may not; the owner may.
    let err = bob.fails(&["pin", &id]);
    assert!(err.contains("owner or an admin"), "{err}");
    assert_eq!(alice.ok(&["pin", &id]).trim(), "pinned");

    let history = carol.ok(&["history", "team"]);
    assert!(
        history.contains("alice: lunch at noon?  [👍 2*] (pinned)"),
        "{history}"
    );
    assert!(
        history.contains("bob: (↩ alice: \"lunch at noon?\") @Alice yes, @room come along"),
        "{history}"
    );
    assert!(!history.contains("🎉"), "{history}");
    assert_eq!(alice.ok(&["unpin", &id]).trim(), "unpinned");
    assert!(!carol.ok(&["history", "team"]).contains("(pinned)"));
}

#[test]
fn notification_levels_and_mutes_set_on_one_device_show_on_another() {
    let server = Server::start();
    let alice = User::registered(&server, "alice");
    let _bob = User::registered(&server, "bob");
    let room = room_id(&alice.ok(&["group", "team", "bob"]));
    // Alice's second device: the same account in another data folder.
    let phone = User::new(&server, "alice");
    phone.ok(&["login", "alice"]);

    let out = alice.ok(&["notify", "team", "mentions", "--mute", "1h"]);
    assert!(out.contains("team: mentions, muted until"), "{out}");
    let rooms = phone.ok(&["rooms"]);
    assert!(rooms.contains("notify: mentions, muted until"), "{rooms}");
    let json = json_lines(&phone.ok(&["--json", "rooms"]));
    assert_eq!(json[0]["notifyLevel"], "mentions");
    assert!(json[0]["muteUntil"].is_string());

    // Unmute keeps the level; `forever` is a mute with no end shown.
    let out = phone.ok(&["notify", &room, "--unmute"]);
    assert_eq!(out.trim(), "team: mentions");
    let out = phone.ok(&["notify", &room, "none", "--mute", "forever"]);
    assert_eq!(out.trim(), "team: none, muted");

    // The default level, for rooms set to follow it.
    alice.ok(&["notify", "team", "default", "--unmute"]);
    assert_eq!(
        alice.ok(&["notify", "--default", "none"]).trim(),
        "default: none"
    );
    let rooms = phone.ok(&["rooms"]);
    assert!(rooms.contains("notify: none (default)"), "{rooms}");

    // Clear errors for what cannot be done.
    let err = alice.fails(&["notify", "team", "loud"]);
    assert!(
        err.contains("level must be all, mentions, none or default"),
        "{err}"
    );
    let err = alice.fails(&["notify", "team", "all", "--mute", "a while"]);
    assert!(err.contains("--mute takes a duration"), "{err}");
    let err = alice.fails(&["notify", "--default", "default"]);
    assert!(
        err.contains("the default level must be all, mentions or none"),
        "{err}"
    );
}

#[test]
fn reading_a_room_on_one_device_clears_its_unread_count_on_the_others() {
    let server = Server::start();
    let alice = User::registered(&server, "alice");
    let bob = User::registered(&server, "bob");
    bob.ok(&["dm", "alice"]);
    bob.ok(&["send", "alice", "one"]);
    bob.ok(&["send", "alice", "two"]);
    let phone = User::new(&server, "alice");
    phone.ok(&["login", "alice"]);
    assert!(phone.ok(&["rooms"]).contains("2 unread"));
    let out = alice.ok(&["read", "bob"]);
    assert!(
        out.contains("read up to") && out.contains("0 unread"),
        "{out}"
    );
    assert!(phone.ok(&["rooms"]).contains("0 unread"));
    let err = alice.fails(&["read", "nobody-here"]);
    assert!(err.contains("nobody-here"), "{err}");
}

#[test]
fn a_community_is_run_from_the_terminal_invites_bans_blocks_and_reports() {
    let server = Server::start_with(|c| {
        c.registration = leetchat_server::config::Registration::Invite;
    });
    // An invite-only server: no invite, no account.
    let alice = User::new(&server, "alice");
    let err = alice.fails(&["register", "alice"]);
    assert!(err.contains("invite"), "{err}");
    let code = server.server_invite();
    alice.ok(&["register", "alice", "--invite", &code]);
    let [bob, carol] = ["bob", "carol"].map(|n| {
        let u = User::new(&server, n);
        u.ok(&["register", n, "--invite", &code]);
        u
    });
    let room = room_id(&alice.ok(&["group", "den", "carol"]));

    // Invite links: the owner makes them; a member may not.
    let err = carol.fails(&["invite", "den"]);
    assert!(err.contains("owner or an admin"), "{err}");
    let link = alice
        .ok(&["invite", "den", "--uses", "1"])
        .trim()
        .to_owned();
    let joined = bob.ok(&["join", &format!("https://chat.example.com/join/{link}")]);
    assert_eq!(room_id(&joined), room);
    bob.ok(&["send", "den", "hello den"]);
    let err = User::new(&server, "dave").fails(&["join", &link]);
    assert!(err.contains("not signed in"), "{err}");
    let listed = alice.run(&["invite", "den", "--list"]);
    assert!(
        String::from_utf8_lossy(&listed.stderr).contains("no usable invite links"),
        "a used-up link is not listed"
    );
    let second = alice
        .ok(&["invite", "den", "--expires", "1h"])
        .trim()
        .to_owned();
    assert!(alice.ok(&["invite", "den", "--list"]).contains(&second));
    assert_eq!(
        alice.ok(&["invite", "--revoke", &second]).trim(),
        format!("revoked {second}")
    );
    let bad = alice.run(&["invite", "den", "--expires", "soon"]);
    assert_eq!(
        bad.status.code(),
        Some(2),
        "a bad duration is a usage error"
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("soon"));

    // Bans: bob is removed and cannot come back until unbanned.
    let err = carol.fails(&["ban", "den", "bob"]);
    assert!(err.contains("owner or an admin"), "{err}");
    assert_eq!(
        alice.ok(&["ban", "den", "bob", "--reason", "spam"]).trim(),
        "banned bob from the group"
    );
    let third = alice.ok(&["invite", "den"]).trim().to_owned();
    let err = bob.fails(&["join", &third]);
    assert!(err.contains("banned"), "{err}");
    let bans = alice.ok(&["ban", "den", "--list"]);
    assert!(bans.contains("bob") && bans.contains("spam"), "{bans}");
    assert_eq!(
        alice.ok(&["unban", "den", "bob"]).trim(),
        "bob may join again"
    );
    bob.ok(&["join", &third]);

    // Blocks: bob cannot write to alice directly while she blocks him.
    alice.ok(&["dm", "bob"]);
    let out = alice.ok(&["block", "bob"]);
    assert!(out.starts_with("blocked bob"), "{out}");
    assert!(alice.ok(&["block", "--list"]).contains("bob"));
    let err = bob.fails(&["send", "alice", "hey there"]);
    assert!(err.contains("does not take messages from you"), "{err}");
    assert_eq!(alice.ok(&["unblock", "bob"]).trim(), "unblocked bob");

    // Reports go to the server's administrators.
    let sent = json_lines(&bob.ok(&["--json", "send", "den", "buy cheap pills"]));
    let id = sent[0]["messageId"].as_str().expect("id").to_owned();
    assert_eq!(
        carol.ok(&["report", &id, "spam"]).trim(),
        "reported to the server's administrators"
    );
    let err = bob.fails(&["report", &id, "mine"]);
    assert!(err.contains("your own message"), "{err}");
}

#[test]
fn a_profile_an_export_and_deleting_the_account_from_the_terminal() {
    let server = Server::start();
    let alice = User::registered(&server, "alice");
    let bob = User::registered(&server, "bob");
    alice.ok(&["group", "den", "bob"]);
    alice.ok(&["send", "den", "hello from alice"]);
    bob.ok(&["send", "den", "hello from bob"]);

    // The profile: a name and a picture, seen by bob.
    assert_eq!(
        alice.ok(&["profile", "--display-name", "Alice A"]).trim(),
        "Alice A (alice), no picture"
    );
    let pic = alice.data_dir().join("me.png");
    image::RgbImage::from_pixel(90, 40, image::Rgb([200, 30, 30]))
        .save(&pic)
        .expect("a picture");
    let out = alice.ok(&["profile", "--avatar", pic.to_str().expect("UTF-8")]);
    assert!(
        out.starts_with("Alice A (alice), picture /api/files/"),
        "{out}"
    );
    let shown = json_lines(&bob.ok(&["--json", "profile"]));
    assert_eq!(shown[0]["userName"], "bob");
    let err = alice.fails(&["profile", "--avatar", "/no/such/picture.png"]);
    assert!(err.contains("picture.png"), "{err}");
    assert_eq!(
        alice.ok(&["profile", "--no-avatar"]).trim(),
        "Alice A (alice), no picture"
    );

    // The export: her own words, not bob's.
    let dest = alice.data_dir().join("mine.json");
    let out = alice.ok(&["export", "--out", dest.to_str().expect("UTF-8")]);
    assert!(out.starts_with("wrote "), "{out}");
    let archive: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&dest).expect("the archive")).expect("JSON");
    assert_eq!(archive["user"]["displayName"], "Alice A");
    let text = archive["messages"].to_string();
    assert!(text.contains("hello from alice") && !text.contains("hello from bob"));

    // Devices: a second sign-in is listed, and signed out from the first.
    let laptop = User::new(&server, "alice");
    laptop.ok(&["login", "alice"]);
    let listed = json_lines(&alice.ok(&["--json", "devices"]));
    let devices = listed[0]["devices"].as_array().expect("devices");
    assert_eq!(devices.len(), 2, "{listed:?}");
    let other = devices
        .iter()
        .find(|d| d["current"] == false)
        .expect("the other device");
    let id = other["deviceId"].as_str().expect("an id").to_owned();
    assert!(alice.ok(&["devices"]).contains("this device"));
    assert_eq!(
        alice.ok(&["devices", "--sign-out", &id]).trim(),
        format!("signed out {id}")
    );
    let err = laptop.fails(&["dm", "bob"]);
    assert!(err.contains("sign"), "{err}");
    let err = alice.fails(&["devices", "--sign-out", &id]);
    assert!(err.contains("no such signed-in device"), "{err}");

    // Deleting the account: a wrong password changes nothing; the right one
    // turns her messages into tombstones and signs the folder out.
    let mut wrong = alice.command(&["delete-account"]);
    wrong.env("LEETCHAT_PASSWORD", "not-her-password");
    let out = wrong.output().expect("leetchat runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("password is wrong"));
    let out = alice.ok(&["delete-account"]);
    assert!(out.starts_with("deleted the account alice"), "{out}");
    let err = alice.fails(&["rooms"]);
    assert!(err.contains("not signed in"), "{err}");
    let history = bob.ok(&["history", "den"]);
    assert!(!history.contains("hello from alice"), "{history}");
    assert!(history.contains("hello from bob"), "{history}");
}
