//! Accepting connections and serving HTTP/1.1 on them: what `axum::serve`
//! does, plus what a server facing the internet needs.
//!
//! - **Header timeout** (`HTTP_HEADER_TIMEOUT`): a request whose headers do
//!   not arrive in time, or a kept-alive connection idle that long between
//!   requests, is closed (slowloris).
//! - **Body timeout** (`HTTP_BODY_TIMEOUT`, in [`crate::app::router`]): an
//!   upload that stalls that long between two chunks ends with `invalid`.
//! - **Connections per address** (`MAX_CONNECTIONS_PER_ADDRESS`): more from
//!   one address are closed at once. Trusted proxies are not counted.
//! - **Out of file descriptors**: accepting backs off and retries, and says
//!   so once per episode (not once per attempt), instead of spinning.
//! - **Closing gracefully**: a connection the server closes is shut down for
//!   writing, then drained for a moment ([`Lingering`]). Closing a socket
//!   with unread data makes the kernel send a reset, and a client still
//!   sending an upload the server refused early (401, 413, 429) then sees
//!   "connection reset" instead of the answer.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use dashmap::DashMap;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use ipnet::IpNet;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

/// How long a closed connection is drained at most, and how long it may
/// stay silent while drained.
const LINGER_TOTAL: Duration = Duration::from_secs(5);
const LINGER_IDLE: Duration = Duration::from_secs(1);
/// How long accepting waits after running out of file descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// What [`serve`] enforces.
#[derive(Debug, Clone)]
pub struct ServeLimits {
    /// Time to send a request's headers (also the idle time allowed
    /// between requests on a kept-alive connection).
    pub header_timeout: Duration,
    /// Open connections per client address; 0: no cap.
    pub per_address: u32,
    /// Addresses not counted (the proxies in front).
    pub trusted: Vec<IpNet>,
}

/// Open connections by address.
#[derive(Debug, Default)]
struct PerAddress {
    open: DashMap<IpAddr, u32>,
}

/// One connection's place in [`PerAddress`], given back on drop.
#[derive(Debug)]
struct Slot {
    counts: Arc<PerAddress>,
    ip: Option<IpAddr>,
}

impl PerAddress {
    fn enter(self: &Arc<Self>, key: IpAddr, ip: IpAddr, limits: &ServeLimits) -> Option<Slot> {
        if limits.per_address == 0 || limits.trusted.iter().any(|n| n.contains(&ip)) {
            return Some(Slot {
                counts: self.clone(),
                ip: None,
            });
        }
        let mut n = self.open.entry(key).or_insert(0);
        if *n >= limits.per_address {
            return None;
        }
        *n += 1;
        Some(Slot {
            counts: self.clone(),
            ip: Some(key),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(ip) = self.ip {
            self.counts.open.remove_if_mut(&ip, |_, n| {
                *n -= 1;
                *n == 0
            });
        }
    }
}

/// A connection that is drained before it is closed: see the module docs.
#[derive(Debug)]
pub struct Lingering {
    tcp: Option<TcpStream>,
    slot: Option<Slot>,
}

impl Lingering {
    fn tcp(&mut self) -> &mut TcpStream {
        self.tcp.as_mut().expect("present until dropped")
    }
}

impl AsyncRead for Lingering {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(self.get_mut().tcp()).poll_read(cx, buf)
    }
}

impl AsyncWrite for Lingering {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(self.get_mut().tcp()).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.get_mut().tcp()).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.get_mut().tcp()).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(self.get_mut().tcp()).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.as_ref().is_some_and(|t| t.is_write_vectored())
    }
}

impl Drop for Lingering {
    fn drop(&mut self) {
        let (Some(tcp), slot) = (self.tcp.take(), self.slot.take()) else {
            return;
        };
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        rt.spawn(async move {
            linger(tcp).await;
            drop(slot);
        });
    }
}

/// Sends FIN after whatever was written, then reads and discards what the
/// peer still sends until it closes, goes quiet, or [`LINGER_TOTAL`] passes.
async fn linger(mut tcp: TcpStream) {
    let _ = tcp.shutdown().await;
    let mut buf = vec![0u8; 16 * 1024];
    let _ = tokio::time::timeout(LINGER_TOTAL, async {
        while let Ok(Ok(n)) = tokio::time::timeout(LINGER_IDLE, tcp.read(&mut buf)).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets the
/// open connections finish (each is told to close once idle) and returns
/// when all have.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(());
    let (done_tx, done_rx) = watch::channel(());
    let counts = Arc::new(PerAddress::default());
    let mut shutdown = pin!(shutdown);
    let mut failing = false;
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = &mut shutdown => break,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => {
                if failing {
                    tracing::info!("accepting connections again");
                    failing = false;
                }
                a
            }
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                if !failing {
                    tracing::error!(
                        error = %e,
                        "cannot accept connections (out of file descriptors? raise `ulimit -n`); retrying every {} ms",
                        ACCEPT_BACKOFF.as_millis()
                    );
                    failing = true;
                }
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let ip = peer.ip().to_canonical();
        let Some(slot) = counts.enter(crate::client_addr::subscriber(ip), ip, &limits) else {
            tracing::debug!(%ip, "too many connections from one address; closed");
            drop(tcp);
            continue;
        };
        // No Nagle: pushes and acks are small and must leave at once.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let io = TokioIo::new(Lingering {
            tcp: Some(tcp),
            slot: Some(slot),
        });
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            router.clone().oneshot(req.map(Body::new))
        });
        let mut stop = stop_rx.clone();
        let done = done_rx.clone();
        let header_timeout = limits.header_timeout;
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let mut conn = pin!(builder.serve_connection(io, service).with_upgrades());
            let mut stopping = false;
            loop {
                tokio::select! {
                    r = conn.as_mut() => {
                        if let Err(e) = r {
                            tracing::trace!(error = %e, "connection ended");
                        }
                        break;
                    }
                    changed = stop.changed(), if !stopping => {
                        let _ = changed;
                        stopping = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(done);
        });
    }
    drop(listener);
    drop(stop_tx);
    drop(done_rx);
    done_tx.closed().await;
    Ok(())
}
