//! The client's address, for the limits kept per address (sign-in attempts,
//! registrations): the peer of the TCP connection or, when that peer is a
//! proxy named in `TRUSTED_PROXIES`, the nearest address in
//! `X-Forwarded-For` that is not itself a trusted proxy. A client cannot
//! choose its address by sending the header: from an untrusted peer it is
//! ignored.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::state::AppState;

/// Where a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The key of per-address limits: the address itself for IPv4, its /64
    /// for IPv6 (one subscriber usually holds a whole /64, so counting single
    /// IPv6 addresses would give one attacker 2^64 budgets).
    pub fn limit_key(&self) -> String {
        match subscriber(self.0) {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(net) => format!("{net}/64"),
        }
    }
}

/// Whom an address stands for in per-address counts: itself for IPv4, its
/// /64 for IPv6 (the rate limits here, the connection cap in `serve`).
pub fn subscriber(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientAddr(resolve(
            peer,
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

/// The client's address given the peer, the request's headers and the
/// trusted proxies. Without a peer (a router driven in-process) it is the
/// unspecified address.
pub fn resolve(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let Some(peer) = peer else {
        return IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    };
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    let mut addr = peer.to_canonical();
    if !is_trusted(&addr) {
        return addr;
    }
    // Each proxy appends the address it got the request from: walk from the
    // nearest hop outwards, and stop at the first one no trusted proxy vouches
    // for (anything further out was written by the client).
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            break;
        };
        addr = ip.to_canonical();
        if !is_trusted(&addr) {
            break;
        }
    }
    addr
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).expect("ascii"));
        }
        h
    }

    #[test]
    fn an_untrusted_peer_cannot_choose_its_address() {
        let h = xff(&["203.0.113.9"]);
        assert_eq!(
            resolve(Some(ip("198.51.100.1")), &h, &[]),
            ip("198.51.100.1")
        );
        let trusted = ["127.0.0.1/32".parse().expect("net")];
        assert_eq!(
            resolve(Some(ip("198.51.100.1")), &h, &trusted),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        let trusted: Vec<IpNet> = vec![
            "127.0.0.1/32".parse().expect("net"),
            "10.0.0.0/8".parse().expect("net"),
        ];
        // The client forged the first entry; nginx appended the real one, then
        // an inner proxy at 10.1.1.1 forwarded to us.
        let h = xff(&["6.6.6.6, 203.0.113.9", "10.1.1.1"]);
        assert_eq!(
            resolve(Some(ip("127.0.0.1")), &h, &trusted),
            ip("203.0.113.9")
        );
        // No header: the proxy itself.
        assert_eq!(
            resolve(Some(ip("127.0.0.1")), &HeaderMap::new(), &trusted),
            ip("127.0.0.1")
        );
        // Garbage stops the walk at the last good hop.
        let h = xff(&["203.0.113.9, not-an-ip, 10.1.1.1"]);
        assert_eq!(resolve(Some(ip("127.0.0.1")), &h, &trusted), ip("10.1.1.1"));
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let a = ClientAddr(ip("2001:db8:1:2:aaaa::1"));
        let b = ClientAddr(ip("2001:db8:1:2:bbbb::2"));
        let c = ClientAddr(ip("2001:db8:1:3::1"));
        assert_eq!(a.limit_key(), b.limit_key());
        assert_ne!(a.limit_key(), c.limit_key());
        assert_eq!(
            ClientAddr(resolve(
                Some(ip("::ffff:192.0.2.7")),
                &HeaderMap::new(),
                &[]
            ))
            .limit_key(),
            "192.0.2.7"
        );
    }
}
