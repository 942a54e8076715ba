//! Outbound HTTP to addresses that users choose (the links of link
//! previews; later the endpoints of Web Push): the one place the server
//! connects to a URL it was given, so the one place that keeps it from being
//! used against the network it runs in (SSRF).
//!
//! The rules, checked on every hop (a redirect is a new request, checked
//! again before it is made):
//! - only `http` and `https` (or only `https`, when the policy says so);
//! - the host's addresses, after DNS, must all be public: loopback, private,
//!   link-local (169.254.169.254, the cloud metadata address), shared,
//!   multicast, documentation and reserved ranges are refused, also inside
//!   IPv4-mapped, NAT64 and 6to4 IPv6 addresses. The connection is made to
//!   the addresses that were checked (the resolver filters them), so a name
//!   that resolves differently a moment later (DNS rebinding) gains nothing;
//! - hosts the operator lists as trusted skip the address rule (and may use
//!   `http` under an https-only policy): the test suites use this for their
//!   local servers, an operator for an intranet site;
//! - a time limit for the whole fetch, redirects included, and a size limit
//!   on the body, read in chunks and cut off there; no proxy from the
//!   environment, no cookies.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, HeaderValue, LOCATION};
use url::{Host, Url};

/// Most redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 5;

/// Why an outbound request was not made, or gave nothing usable.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum Refused {
    /// Not http(s) (or not https under an https-only policy).
    #[error("the URL's scheme is not allowed")]
    Scheme,
    /// The host is, or resolves to, an address that is not public.
    #[error("the host's address {0} is not public")]
    Address(IpAddr),
    /// The host could not be resolved (or had no address at all).
    #[error("the host could not be resolved")]
    Unresolvable,
    /// More than [`MAX_REDIRECTS`] redirects, or a redirect without a usable Location.
    #[error("too many or broken redirects")]
    Redirects,
    /// The whole fetch took longer than allowed.
    #[error("timed out")]
    Timeout,
    /// The body is larger than allowed (only when the caller needs all of it).
    #[error("the response is larger than allowed")]
    TooLarge,
    /// The response's status is not a success.
    #[error("the server answered {0}")]
    Status(u16),
    /// Connecting, TLS or reading failed.
    #[error("the request failed: {0}")]
    Transport(String),
}

impl Refused {
    /// A short label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Refused::Scheme => "scheme",
            Refused::Address(_) => "address",
            Refused::Unresolvable => "unresolvable",
            Refused::Redirects => "redirects",
            Refused::Timeout => "timeout",
            Refused::TooLarge => "too_large",
            Refused::Status(_) => "status",
            Refused::Transport(_) => "transport",
        }
    }
}

/// What a policy lets through.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Refuse plain `http` (except for trusted hosts).
    pub https_only: bool,
    /// Hosts (names or address literals, lower-case, as written in URLs)
    /// exempt from the address rule and from `https_only`.
    pub trusted_hosts: HashSet<String>,
}

impl Policy {
    /// A policy from a list of trusted hosts (trimmed, lower-cased; IPv6
    /// literals may be written with or without brackets).
    pub fn new(https_only: bool, trusted_hosts: &[String]) -> Policy {
        Policy {
            https_only,
            trusted_hosts: trusted_hosts
                .iter()
                .map(|h| {
                    h.trim()
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .to_ascii_lowercase()
                })
                .filter(|h| !h.is_empty())
                .collect(),
        }
    }

    fn trusts(&self, host: &str) -> bool {
        let h = host.trim_start_matches('[').trim_end_matches(']');
        self.trusted_hosts.contains(&h.to_ascii_lowercase())
    }

    /// Checks what can be checked without the network: the scheme, and a
    /// host written as an address (those are never looked up, so the
    /// resolver's filter would not see them).
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        let host = url.host_str().ok_or(Refused::Scheme)?;
        let trusted = self.trusts(host);
        match url.scheme() {
            "https" => {}
            "http" if !self.https_only || trusted => {}
            _ => return Err(Refused::Scheme),
        }
        if !url.username().is_empty() || url.password().is_some() {
            // Credentials in a link are never sent anywhere.
            return Err(Refused::Scheme);
        }
        if trusted {
            return Ok(());
        }
        let literal = match url.host() {
            Some(Host::Ipv4(a)) => Some(IpAddr::V4(a)),
            Some(Host::Ipv6(a)) => Some(IpAddr::V6(a)),
            _ => None,
        };
        match literal {
            Some(ip) if !is_public(ip) => Err(Refused::Address(ip)),
            _ => Ok(()),
        }
    }
}

/// Whether an address may be reached from here on a user's behalf: not
/// loopback, private, shared (CGNAT), link-local, multicast, documentation,
/// benchmarking, reserved or unspecified, in either family.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => is_public_v4(a),
        IpAddr::V6(a) => is_public_v6(a),
    }
}

fn is_public_v4(a: Ipv4Addr) -> bool {
    let [o0, o1, o2, _] = a.octets();
    !(a.is_unspecified()
        || a.is_loopback()
        || a.is_private()
        || a.is_link_local()
        || a.is_broadcast()
        || a.is_multicast()
        || a.is_documentation()
        || o0 == 0 // "this network"
        || (o0 == 100 && (o1 & 0xc0) == 64) // 100.64.0.0/10, shared address space
        || (o0 == 192 && o1 == 0 && o2 == 0) // 192.0.0.0/24, IETF protocol assignments
        || (o0 == 198 && (o1 & 0xfe) == 18) // 198.18.0.0/15, benchmarking
        || o0 >= 240) // reserved
}

fn is_public_v6(a: Ipv6Addr) -> bool {
    if let Some(v4) = a.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = a.segments();
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return is_public_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    !(a.is_unspecified()
        || a.is_loopback()
        || a.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // fc00::/7, unique local
        || (s[0] & 0xffc0) == 0xfe80 // fe80::/10, link-local
        || (s[0] & 0xffc0) == 0xfec0 // fec0::/10, old site-local
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || s[0] == 0x2002 // 6to4: may wrap any IPv4 address
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only
        || s[0..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (deprecated) and ::/96
}

/// Resolves with the system resolver, then keeps only the addresses the
/// policy allows: the connection can only go to an address checked here.
#[derive(Debug)]
struct FilteringResolver {
    policy: Arc<Policy>,
}

impl Resolve for FilteringResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| Box::new(Refused::Unresolvable) as Box<_>)?
                .collect();
            let trusted = policy.trusts(&host);
            if let Some(bad) = addrs.iter().find(|a| !trusted && !is_public(a.ip())) {
                // One private address among public ones is refused too: the
                // name is pointing into the local network.
                return Err(Box::new(Refused::Address(bad.ip())) as Box<_>);
            }
            if addrs.is_empty() {
                return Err(Box::new(Refused::Unresolvable) as Box<_>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// A fetched body.
#[derive(Debug)]
pub struct Fetched {
    /// The URL that answered (after redirects).
    pub url: Url,
    /// Its `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The body, at most the limit given.
    pub body: Vec<u8>,
    /// The body went on past the limit and was cut off.
    pub truncated: bool,
}

/// The outbound HTTP client: one per purpose (its policy), shared.
#[derive(Debug, Clone)]
pub struct Egress {
    client: reqwest::Client,
    policy: Arc<Policy>,
}

impl Egress {
    /// A client for `policy`, naming itself `user_agent`.
    pub fn new(policy: Policy, user_agent: &str) -> Result<Egress, reqwest::Error> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .user_agent(user_agent)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(FilteringResolver {
                policy: policy.clone(),
            }))
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        Ok(Egress { client, policy })
    }

    /// The policy this client keeps.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Checks a URL users give before keeping it (a Web Push endpoint): the
    /// policy's scheme and address rules, its host resolved now. (The
    /// connection, later, is checked again by the resolver.)
    pub async fn check_endpoint(&self, url: &Url) -> Result<(), Refused> {
        self.policy.check_url(url)?;
        let host = url.host_str().ok_or(Refused::Scheme)?;
        if self.policy.trusts(host) || matches!(url.host(), Some(Host::Ipv4(_) | Host::Ipv6(_))) {
            return Ok(());
        }
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|_| Refused::Unresolvable)?
            .collect();
        if addrs.is_empty() {
            return Err(Refused::Unresolvable);
        }
        match addrs.iter().find(|a| !is_public(a.ip())) {
            Some(bad) => Err(Refused::Address(bad.ip())),
            None => Ok(()),
        }
    }

    /// POSTs `body` with `headers` to `url` (no redirects followed: a push
    /// service answers, it does not send elsewhere), within `timeout`.
    /// Returns the status.
    pub async fn post(
        &self,
        url: Url,
        headers: reqwest::header::HeaderMap,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<u16, Refused> {
        self.policy.check_url(&url)?;
        let send = self.client.post(url).headers(headers).body(body).send();
        let resp = tokio::time::timeout(timeout, send)
            .await
            .map_err(|_| Refused::Timeout)?
            .map_err(transport)?;
        Ok(resp.status().as_u16())
    }

    /// GETs `url`, following redirects (each checked), within `timeout` in
    /// all, reading at most `max_bytes` of the body (`truncated` says when
    /// there was more). `accept` is the Accept header.
    pub async fn get(
        &self,
        url: Url,
        accept: &'static str,
        timeout: Duration,
        max_bytes: usize,
    ) -> Result<Fetched, Refused> {
        tokio::time::timeout(timeout, self.get_inner(url, accept, max_bytes))
            .await
            .map_err(|_| Refused::Timeout)?
    }

    async fn get_inner(
        &self,
        mut url: Url,
        accept: &'static str,
        max_bytes: usize,
    ) -> Result<Fetched, Refused> {
        for _ in 0..=MAX_REDIRECTS {
            self.policy.check_url(&url)?;
            let mut resp = self
                .client
                .get(url.clone())
                .header(reqwest::header::ACCEPT, HeaderValue::from_static(accept))
                .send()
                .await
                .map_err(transport)?;
            let status = resp.status();
            if status.is_redirection() {
                let next = resp
                    .headers()
                    .get(LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l).ok())
                    .ok_or(Refused::Redirects)?;
                url = next;
                continue;
            }
            if !status.is_success() {
                return Err(Refused::Status(status.as_u16()));
            }
            let content_type = resp
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let mut body = Vec::new();
            let mut truncated = false;
            while let Some(chunk) = resp.chunk().await.map_err(transport)? {
                let room = max_bytes - body.len();
                if chunk.len() > room {
                    body.extend_from_slice(&chunk[..room]);
                    truncated = true;
                    break;
                }
                body.extend_from_slice(&chunk);
            }
            return Ok(Fetched {
                url,
                content_type,
                body,
                truncated,
            });
        }
        Err(Refused::Redirects)
    }
}

/// A reqwest error as a refusal, keeping the resolver's own reason.
fn transport(e: reqwest::Error) -> Refused {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<Refused>() {
            return r.clone();
        }
        source = s.source();
    }
    if e.is_timeout() {
        return Refused::Timeout;
    }
    Refused::Transport(e.without_url().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn local_and_special_addresses_are_not_public() {
        for a in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "::",
            "::1",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "::127.0.0.1",
        ] {
            assert!(!is_public(ip(a)), "{a} must not be public");
        }
    }

    #[test]
    fn ordinary_internet_addresses_are_public() {
        for a in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(ip(a)), "{a} must be public");
        }
    }

    #[test]
    fn urls_with_other_schemes_credentials_or_private_literals_are_refused() {
        let p = Policy::new(false, &[]);
        for (u, want) in [
            ("ftp://example.com/", Refused::Scheme),
            ("file:///etc/passwd", Refused::Scheme),
            ("gopher://example.com/", Refused::Scheme),
            ("http://user:pw@example.com/", Refused::Scheme),
            ("http://127.0.0.1:8080/", Refused::Address(ip("127.0.0.1"))),
            ("http://10.0.0.5/", Refused::Address(ip("10.0.0.5"))),
            (
                "http://169.254.169.254/latest/meta-data/",
                Refused::Address(ip("169.254.169.254")),
            ),
            ("http://[::1]/", Refused::Address(ip("::1"))),
            (
                "http://[::ffff:7f00:1]/",
                Refused::Address(ip("::ffff:127.0.0.1")),
            ),
            // Written in other forms, the URL parser normalises them.
            ("http://2130706433/", Refused::Address(ip("127.0.0.1"))),
            ("http://0x7f.1/", Refused::Address(ip("127.0.0.1"))),
        ] {
            assert_eq!(p.check_url(&Url::parse(u).unwrap()), Err(want), "{u}");
        }
        assert_eq!(
            p.check_url(&Url::parse("https://example.com/a").unwrap()),
            Ok(())
        );
        assert_eq!(
            p.check_url(&Url::parse("http://example.com/a").unwrap()),
            Ok(())
        );
    }

    #[test]
    fn trusted_hosts_skip_the_address_rule_and_https_only() {
        let p = Policy::new(
            true,
            &["127.0.0.1".into(), "Push.Local".into(), "[::1]".into()],
        );
        assert_eq!(
            p.check_url(&Url::parse("http://127.0.0.1:9/").unwrap()),
            Ok(())
        );
        assert_eq!(
            p.check_url(&Url::parse("http://push.local/x").unwrap()),
            Ok(())
        );
        assert_eq!(p.check_url(&Url::parse("http://[::1]:8/").unwrap()), Ok(()));
        assert_eq!(
            p.check_url(&Url::parse("http://example.com/").unwrap()),
            Err(Refused::Scheme),
            "plain http to an untrusted host under https-only"
        );
        assert_eq!(
            p.check_url(&Url::parse("https://10.0.0.1/").unwrap()),
            Err(Refused::Address(ip("10.0.0.1")))
        );
    }
}
