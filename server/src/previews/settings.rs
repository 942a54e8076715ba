//! The operator's settings for link previews (flattened into
//! [`crate::config::Config`]).

use std::time::Duration;

use crate::config::{parse_bytes, parse_duration};

/// Link previews: whether the server fetches them, from where, and within
/// what limits.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct PreviewSettings {
    /// Fetch a title, description and picture for the first link of each
    /// message (`false` turns link previews off).
    #[arg(
        long = "link-previews",
        env = "LINK_PREVIEWS",
        default_value_t = true,
        action = clap::ArgAction::Set
    )]
    pub enabled: bool,

    /// Hosts link previews may fetch even though they resolve to a private,
    /// loopback or link-local address (comma-separated names or addresses,
    /// as written in links; e.g. an intranet wiki). Everything else must be
    /// on a public address.
    #[arg(
        long = "link-preview-allow-hosts",
        env = "LINK_PREVIEW_ALLOW_HOSTS",
        value_delimiter = ','
    )]
    pub allow_hosts: Vec<String>,

    /// Longest a preview's fetch may take, page and picture together.
    #[arg(id = "link_preview_timeout", long = "link-preview-timeout", env = "LINK_PREVIEW_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,

    /// Most bytes read of a page or its picture (a page is cut off there; a
    /// larger picture is not shown).
    #[arg(long = "link-preview-max-bytes", env = "LINK_PREVIEW_MAX_BYTES", default_value = "1MiB", value_parser = parse_bytes)]
    pub max_bytes: u64,

    /// How long a fetched preview (or a link that gave none) is kept before
    /// a new message with the same link fetches it again.
    #[arg(long = "link-preview-cache", env = "LINK_PREVIEW_CACHE", default_value = "24h", value_parser = parse_duration)]
    pub cache_for: Duration,

    /// Previews fetched at once on this node; more wait their turn.
    #[arg(
        long = "link-preview-fetches",
        env = "LINK_PREVIEW_FETCHES",
        default_value_t = 4
    )]
    pub fetches: u32,
}

impl Default for PreviewSettings {
    fn default() -> Self {
        PreviewSettings {
            enabled: true,
            allow_hosts: Vec::new(),
            timeout: Duration::from_secs(5),
            max_bytes: 1 << 20,
            cache_for: Duration::from_secs(24 * 3600),
            fetches: 4,
        }
    }
}
