//! Scenario 5: the reconnect storm.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use futures_util::{StreamExt, TryStreamExt};
use serde_json::json;

use super::{Target, bar, connect_all, make_groups};
use crate::client::{Conn, Totals, User};
use crate::results::Reconnect;

/// Scenario 5: `users` connected in groups; all dropped at once; while they
/// are away each group gets `missed` messages; then all reconnect at once and
/// `sync`. Time until everyone has everything; lost and duplicated counts.
pub async fn reconnect_storm(
    t: &Target<'_>,
    users: &[User],
    group: usize,
    missed: usize,
    sockets: usize,
    quiet: bool,
) -> Result<Reconnect> {
    let start = Instant::now();
    let totals = Arc::new(Totals::default());
    let mut conns = connect_all(t, users, start, 1, &totals, false, quiet).await?;
    let rooms = make_groups(&mut conns, users, group).await?;
    // More sockets than users: the extra ones are further devices of the
    // same users (socket i is user i mod n).
    let n = users.len();
    let extra: Vec<User> = (n..sockets).map(|i| users[i % n].clone()).collect();
    let mut more = connect_all(t, &extra, start, 1, &totals, false, quiet).await?;
    let everyone: Vec<User> = (0..sockets.max(n)).map(|i| users[i % n].clone()).collect();
    let room_of = |i: usize| rooms[i % n].clone();
    let groups: BTreeSet<&String> = rooms.iter().collect();
    // Like a real client, each user knows all of their rooms and the seq
    // each is at (their store has them): they sync them all when they come
    // back, not only the storm's room. (Naming one room would return every
    // other room, member lists and all, as new: in a full run that includes
    // the 1,000-member fan-out group, ~100 KB for each of 15,000 syncs.)
    let known: Vec<BTreeMap<String, i64>> = futures_util::stream::iter(conns.iter_mut())
        .map(|c| async move {
            let list = c.call("room.list", json!({})).await?;
            anyhow::Ok(
                list["rooms"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| {
                                let id = x["roomId"].as_str()?.to_owned();
                                Some((id, x["lastSeq"].as_i64()?))
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            )
        })
        .buffered(8)
        .try_collect()
        .await?;
    for (i, r) in rooms.iter().enumerate() {
        if !known[i].contains_key(r) {
            bail!("user {i} does not list their storm room {r}");
        }
    }
    // Everyone drops at once.
    let presence_before = t.pushes_of("presence.update").await?;
    conns.append(&mut more);
    futures_util::future::join_all(conns.into_iter().map(Conn::finish)).await;
    // A writer per group sends while they are away.
    let writer = &users[0];
    let mut w = Conn::connect(&t.ws(0), &writer.token, start, 1, totals.clone(), false).await?;
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for (gi, r) in groups.iter().enumerate() {
        // The writer is a member of the first group only: other groups get
        // their missed messages from their own first member.
        let first = rooms.iter().position(|x| x == *r).unwrap_or(0);
        let mut c = if gi == 0 {
            None
        } else {
            Some(
                Conn::connect(
                    &t.ws(first),
                    &users[first].token,
                    start,
                    1,
                    totals.clone(),
                    false,
                )
                .await?,
            )
        };
        for k in 0..missed {
            let conn = c.as_mut().unwrap_or(&mut w);
            // Sent while the server is still saying goodbye to 15,000
            // sockets: like a real client's outbox, a retryable refusal is
            // sent again with the same tempId (the server keeps one copy).
            let data = json!({"roomId": r, "content": format!("missed {k}"), "tempId": uuid::Uuid::new_v4().simple().to_string()});
            let mut tries = 0u64;
            loop {
                match conn.call("message.send", data.clone()).await {
                    Ok(_) => break,
                    Err(e) if e.to_string().contains("\"retryable\":true") && tries < 20 => {
                        tries += 1;
                        tokio::time::sleep(Duration::from_millis(100 * tries)).await;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        if let Some(c) = c {
            c.finish().await;
        }
        expected.insert((*r).clone(), missed);
    }
    w.finish().await;
    // Everyone reconnects at once and syncs.
    let b = bar(
        everyone.len() as u64,
        &format!("{}: reconnect+sync", t.name),
        quiet,
    );
    eprintln!("{}: {} clients reconnect at once", t.name, everyone.len());
    let t0 = Instant::now();
    let tasks: Vec<_> = everyone
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let url = t.ws(i);
            let token = u.token.clone();
            let room = room_of(i);
            let since = known[i % n].clone();
            let totals = totals.clone();
            let b = b.clone();
            tokio::spawn(async move {
                // Like a real client: a refused connection or a retryable
                // error is retried, with growing jittered waits.
                let mut retries = 0u32;
                let mut reasons: Vec<String> = Vec::new();
                let mut c = loop {
                    match Conn::connect(&url, &token, start, 1, totals.clone(), false).await {
                        Ok(c) => break c,
                        Err(e) if retries < 20 => {
                            back_off(&mut retries, &mut reasons, &e, i).await;
                        }
                        Err(e) => return Err(e),
                    }
                };
                let r = loop {
                    match c.call("sync", json!({"since": since})).await {
                        Ok(r) => break r,
                        Err(e) if e.to_string().contains("\"retryable\":true") && retries < 20 => {
                            back_off(&mut retries, &mut reasons, &e, i).await;
                        }
                        Err(e) => return Err(e),
                    }
                };
                let events = r["rooms"][&room]["events"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let contents: Vec<String> = events
                    .iter()
                    .filter(|e| e["event"] == "message.received")
                    .filter_map(|e| e["data"]["message"]["content"].as_str().map(str::to_owned))
                    .collect();
                let took = t0.elapsed();
                c.finish().await;
                b.inc(1);
                anyhow::Ok((room, contents, took, retries, reasons))
            })
        })
        .collect();
    let mut lost = 0usize;
    let mut dup = 0usize;
    let mut slowest = Duration::ZERO;
    let mut retried = 0u64;
    let mut why: BTreeMap<String, u64> = BTreeMap::new();
    for task in tasks {
        let (room, contents, took, retries, reasons) = task.await??;
        retried += u64::from(retries);
        for r in reasons {
            *why.entry(r).or_default() += 1;
        }
        slowest = slowest.max(took);
        let unique: BTreeSet<&String> = contents.iter().collect();
        dup += contents.len() - unique.len();
        lost += expected
            .get(&room)
            .copied()
            .unwrap_or(0)
            .saturating_sub(unique.len());
    }
    b.finish_and_clear();
    let presence_pushes = t.pushes_of("presence.update").await? - presence_before;
    if lost > 0 || dup > 0 {
        bail!("reconnect storm: {lost} lost, {dup} duplicated");
    }
    Ok(Reconnect {
        clients: everyone.len(),
        users: n,
        group_size: group,
        missed_per_room: missed,
        all_back_and_caught_up_s: slowest.as_secs_f64(),
        lost,
        duplicated: dup,
        retries: retried,
        retry_reasons: why,
        presence_pushes: Some(presence_pushes),
    })
}

/// Notes why storm client `i` retries, then waits a growing, jittered while.
async fn back_off(retries: &mut u32, reasons: &mut Vec<String>, e: &anyhow::Error, i: usize) {
    reasons.push(retry_reason(e));
    *retries += 1;
    let ms = 50u64 << (*retries).min(5);
    tokio::time::sleep(Duration::from_millis(ms + (i as u64 * 7919) % ms)).await;
}

/// A short name for why a storm client had to retry.
fn retry_reason(e: &anyhow::Error) -> String {
    let s = e.to_string();
    if let Some(i) = s.find("\"message\":\"") {
        let rest = &s[i + 11..];
        return rest.split('"').next().unwrap_or(rest).to_owned();
    }
    s.chars().take(140).collect()
}
