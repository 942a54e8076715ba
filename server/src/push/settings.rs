//! The operator's settings for Web Push (flattened into
//! [`crate::config::Config`]).

use std::time::Duration;

use crate::config::parse_duration;

/// Web Push: the server's key, whom it may push to, and how long it tries.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct PushSettings {
    /// The VAPID private key (RFC 8292): base64url of a P-256 scalar (32
    /// bytes). Unset: kept in DATA_DIR/vapid_private_key (mode 0600),
    /// generated on first start; a node without one takes the key the
    /// database records, so every node of a cluster signs with the same key.
    #[arg(
        long = "vapid-private-key",
        env = "VAPID_PRIVATE_KEY",
        hide_env_values = true
    )]
    pub vapid_private_key: Option<String>,

    /// Who runs this server, for push services to reach (the VAPID `sub`
    /// claim): `mailto:admin@example.com` or an `https:` URL.
    #[arg(
        long = "push-subject",
        env = "PUSH_SUBJECT",
        default_value = "mailto:postmaster@localhost"
    )]
    pub subject: String,

    /// Hosts that Web Push endpoints may use plain `http` with, and that may
    /// be on a private, loopback or link-local address (comma-separated, as
    /// written in URLs; e.g. a UnifiedPush distributor on the LAN). Every
    /// other endpoint must be `https` on a public address.
    #[arg(
        long = "push-allow-http-hosts",
        env = "PUSH_ALLOW_HTTP_HOSTS",
        value_delimiter = ','
    )]
    pub allow_http_hosts: Vec<String>,

    /// Longest one delivery to a push service may take.
    #[arg(id = "push_timeout", long = "push-timeout", env = "PUSH_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,

    /// How long a push the service refused for now (429, 5xx, no answer)
    /// is tried again, with back-off, before it is given up.
    #[arg(long = "push-retry-for", env = "PUSH_RETRY_FOR", default_value = "5m", value_parser = parse_duration)]
    pub retry_for: Duration,
}
