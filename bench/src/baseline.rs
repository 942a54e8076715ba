//! The baseline: a bare broadcast server on the same WebSocket stack as
//! LeetChat (axum + tungstenite), speaking just enough of the protocol for
//! the same load generator: register (the token is the user name, nothing is
//! checked), `connection.authenticated`, `room.create`, `message.send` (acked,
//! pushed as `message.received` to the room's other members). No auth, no
//! storage, no ordering work: what the transport alone does on this machine.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{RwLock, mpsc};

/// A connection: its id and outbound queue.
type ConnQueue = (u64, mpsc::UnboundedSender<Utf8Bytes>);

#[derive(Default)]
struct Shared {
    /// user → their connections' queues.
    conns: RwLock<HashMap<String, Vec<ConnQueue>>>,
    /// room → members.
    rooms: RwLock<HashMap<String, Arc<[String]>>>,
    next: AtomicU64,
}

/// Serves the baseline on `port` until killed.
pub async fn serve(port: u16) -> anyhow::Result<()> {
    let shared = Arc::new(Shared::default());
    let app = Router::new()
        .route("/api/auth/register", post(register))
        .route("/ws", get(upgrade))
        .route("/health/chat", get(|| async { "ok" }))
        .with_state(shared);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await?
        .tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
    axum::serve(listener, app).await?;
    Ok(())
}

async fn register(body: axum::Json<Value>) -> impl IntoResponse {
    let name = body["userName"].as_str().unwrap_or("anon").to_owned();
    (
        axum::http::StatusCode::CREATED,
        axum::Json(json!({"user": {"userId": name}, "accessToken": name})),
    )
}

async fn upgrade(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> impl IntoResponse {
    let user = headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("anon")
        .to_owned();
    ws.read_buffer_size(8 * 1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| run(shared, socket, user))
}

async fn run(shared: Arc<Shared>, socket: WebSocket, user: String) {
    let id = shared.next.fetch_add(1, Ordering::Relaxed);
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Utf8Bytes>();
    shared
        .conns
        .write()
        .await
        .entry(user.clone())
        .or_default()
        .push((id, tx.clone()));
    let hello = json!({"event": "connection.authenticated", "data": {"userId": user}});
    let _ = tx.send(hello.to_string().into());
    let writer = tokio::spawn(async move {
        while let Some(t) = rx.recv().await {
            if sink.feed(Message::Text(t)).await.is_err() {
                return;
            }
            while let Ok(t) = rx.try_recv() {
                if sink.feed(Message::Text(t)).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    while let Some(Ok(m)) = stream.next().await {
        let Message::Text(text) = m else { continue };
        let Ok(v) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let ack_id = v["id"].clone();
        let data = &v["data"];
        let reply = match v["event"].as_str() {
            Some("room.create") => {
                let room = format!("room-{}", shared.next.fetch_add(1, Ordering::Relaxed));
                let mut members: Vec<String> = data["memberIds"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|m| m.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                members.push(user.clone());
                shared
                    .rooms
                    .write()
                    .await
                    .insert(room.clone(), members.into());
                json!({"room": {"roomId": room}})
            }
            Some("message.send") => {
                let room = data["roomId"].as_str().unwrap_or_default().to_owned();
                let message = json!({"roomId": room, "senderId": user, "content": data["content"], "tempId": data["tempId"]});
                let push: Utf8Bytes =
                    json!({"event": "message.received", "data": {"message": message}})
                        .to_string()
                        .into();
                let members = shared.rooms.read().await.get(&room).cloned();
                if let Some(members) = members {
                    let conns = shared.conns.read().await;
                    for m in members.iter() {
                        for (cid, q) in conns.get(m).into_iter().flatten() {
                            if *cid != id {
                                let _ = q.send(push.clone());
                            }
                        }
                    }
                }
                json!({"message": message})
            }
            _ => json!({}),
        };
        if !ack_id.is_null() {
            let ack = json!({"ack": ack_id, "ok": true, "data": reply});
            let _ = tx.send(ack.to_string().into());
        }
    }
    if let Some(v) = shared.conns.write().await.get_mut(&user) {
        v.retain(|(c, _)| *c != id);
    }
    drop(tx);
    let _ = writer.await;
}
