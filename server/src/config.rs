//! Configuration from the environment (and the same names as flags), with
//! `--help` listing every setting. A bad value stops start-up with a message
//! naming the variable.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use clap::Parser;

/// A sliding-window limit: at most `count` actions per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Actions allowed per window.
    pub count: u32,
    /// The window's length.
    pub window: Duration,
}

impl RateLimit {
    /// A limit of `count` per `seconds`.
    pub const fn new(count: u32, seconds: u64) -> Self {
        RateLimit {
            count,
            window: Duration::from_secs(seconds),
        }
    }
}

impl FromStr for RateLimit {
    type Err = String;

    /// Parses `COUNT/SECONDS`, e.g. `10/60`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (count, secs) = s
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("expected COUNT/SECONDS such as 10/60, got {s:?}"))?;
        let count: u32 = count
            .trim()
            .parse()
            .map_err(|_| format!("COUNT must be a whole number, got {count:?}"))?;
        let secs: u64 = secs
            .trim()
            .parse()
            .map_err(|_| format!("SECONDS must be a whole number, got {secs:?}"))?;
        if count == 0 || secs == 0 {
            return Err("COUNT and SECONDS must both be at least 1".into());
        }
        Ok(RateLimit::new(count, secs))
    }
}

/// Every rate limit, as `COUNT/SECONDS` sliding windows. Each request that
/// writes or pushes belongs to one (see `handlers::limit_of`); on a cluster
/// they are kept in Redis, so they hold across nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct RateLimits {
    /// `message.send` per user (an idempotent resend does not count).
    #[arg(
        long = "rate-limit-message",
        env = "RATE_LIMIT_MESSAGE",
        default_value = "10/60"
    )]
    pub message: RateLimit,

    /// `message.edit` and `message.delete` per user.
    #[arg(
        long = "rate-limit-edit",
        env = "RATE_LIMIT_EDIT",
        default_value = "30/60"
    )]
    pub edit: RateLimit,

    /// `message.read` per user.
    #[arg(
        long = "rate-limit-read",
        env = "RATE_LIMIT_READ",
        default_value = "120/60"
    )]
    pub read: RateLimit,

    /// File uploads per user.
    #[arg(
        long = "rate-limit-file",
        env = "RATE_LIMIT_FILE",
        default_value = "5/300"
    )]
    pub file: RateLimit,

    /// Group creations per user.
    #[arg(
        long = "rate-limit-room-create",
        env = "RATE_LIMIT_ROOM_CREATE",
        default_value = "3/3600"
    )]
    pub room_create: RateLimit,

    /// New direct rooms per user (opening one that exists does not count).
    #[arg(
        long = "rate-limit-direct",
        env = "RATE_LIMIT_DIRECT",
        default_value = "30/3600"
    )]
    pub direct: RateLimit,

    /// `room.update` and `room.members.add`/`remove`/`role` per user.
    #[arg(
        long = "rate-limit-room-change",
        env = "RATE_LIMIT_ROOM_CHANGE",
        default_value = "30/60"
    )]
    pub room_change: RateLimit,

    /// `typing.start` per user (`typing.stop` ends one and is not counted).
    #[arg(
        long = "rate-limit-typing",
        env = "RATE_LIMIT_TYPING",
        default_value = "30/60"
    )]
    pub typing: RateLimit,

    /// `sync` per user.
    #[arg(
        long = "rate-limit-sync",
        env = "RATE_LIMIT_SYNC",
        default_value = "60/60"
    )]
    pub sync: RateLimit,

    /// `reaction.add` and `reaction.remove` per user.
    #[arg(
        long = "rate-limit-reaction",
        env = "RATE_LIMIT_REACTION",
        default_value = "60/60"
    )]
    pub reaction: RateLimit,

    /// `message.pin` and `message.unpin` per user.
    #[arg(
        long = "rate-limit-pin",
        env = "RATE_LIMIT_PIN",
        default_value = "30/60"
    )]
    pub pin: RateLimit,

    /// `room.notify.set` and `notify.default.set` per user.
    #[arg(
        long = "rate-limit-settings",
        env = "RATE_LIMIT_SETTINGS",
        default_value = "60/60"
    )]
    pub settings: RateLimit,

    /// `message.search` per user.
    #[arg(
        long = "rate-limit-search",
        env = "RATE_LIMIT_SEARCH",
        default_value = "120/60"
    )]
    pub search: RateLimit,

    /// Login attempts per account name and client address.
    #[arg(
        long = "rate-limit-auth",
        env = "RATE_LIMIT_AUTH",
        default_value = "20/60"
    )]
    pub auth: RateLimit,

    /// Login attempts per account name from all addresses together: a
    /// ceiling on guessing spread over many addresses, looser than
    /// RATE_LIMIT_AUTH so one stranger cannot lock the owner out.
    #[arg(
        long = "rate-limit-auth-account",
        env = "RATE_LIMIT_AUTH_ACCOUNT",
        default_value = "100/60"
    )]
    pub auth_account: RateLimit,

    /// Registrations per client address.
    #[arg(
        long = "rate-limit-register",
        env = "RATE_LIMIT_REGISTER",
        default_value = "20/3600"
    )]
    pub register: RateLimit,

    /// `message.report` per user.
    #[arg(
        long = "rate-limit-report",
        env = "RATE_LIMIT_REPORT",
        default_value = "10/60"
    )]
    pub report: RateLimit,

    /// `GET /api/me/export` per user (an export reads all of one's messages).
    #[arg(
        long = "rate-limit-export",
        env = "RATE_LIMIT_EXPORT",
        default_value = "5/3600"
    )]
    pub export: RateLimit,
}

impl RateLimits {
    /// Every action at the same limit (test set-ups start from this and
    /// tighten the one they test).
    pub const fn all(limit: RateLimit) -> Self {
        RateLimits {
            message: limit,
            edit: limit,
            read: limit,
            file: limit,
            room_create: limit,
            direct: limit,
            room_change: limit,
            typing: limit,
            sync: limit,
            reaction: limit,
            pin: limit,
            settings: limit,
            search: limit,
            auth: limit,
            auth_account: limit,
            register: limit,
            report: limit,
            export: limit,
        }
    }
}

/// Parses an address (`10.0.0.1`) or a CIDR block (`10.0.0.0/8`).
pub fn parse_net(s: &str) -> Result<ipnet::IpNet, String> {
    let t = s.trim();
    if let Ok(ip) = t.parse::<std::net::IpAddr>() {
        return Ok(ipnet::IpNet::from(ip));
    }
    t.parse::<ipnet::IpNet>()
        .map_err(|_| format!("expected an address or CIDR block such as 10.0.0.0/8, got {s:?}"))
}

/// Parses a duration such as `15m`, `7d`, `1h 30m`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let d = match s.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => humantime::parse_duration(s)
            .map_err(|e| format!("expected a duration such as 15m, 7d or 3600, got {s:?}: {e}"))?,
    };
    if d.is_zero() {
        return Err("the duration must be longer than zero".into());
    }
    Ok(d)
}

/// Parses a byte size: `10485760`, `10MiB`, `10MB`, `512k`.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("expected a size in bytes such as 10485760 or 10MiB, got {s:?}"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => return Err(format!("unknown size unit {other:?} in {s:?}")),
    };
    let v = n
        .checked_mul(mult)
        .ok_or_else(|| format!("size {s:?} is too large"))?;
    if v == 0 {
        return Err("the size must be at least 1 byte".into());
    }
    Ok(v)
}

/// Who may make an account (`REGISTRATION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Registration {
    /// Anyone who reaches the server.
    Open,
    /// Only with a server invite.
    Invite,
    /// Nobody: accounts are made by `leetchat-server admin create-user`.
    Closed,
}

/// Everything `leetchat-server` can be told. Every flag also reads the
/// environment variable of the same name.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "leetchat-server",
    version,
    about = "LeetChat server: real-time chat over WebSocket and HTTP.",
    long_about = "LeetChat server: real-time chat over WebSocket and HTTP.\n\n\
With no configuration it listens on port 3001 and keeps everything in SQLite under ./data. \
Set DATABASE_URL=postgres://... to use PostgreSQL instead."
)]
pub struct Config {
    /// Port for WebSocket (/ws) and HTTP.
    #[arg(long, env = "SOCKET_PORT", default_value_t = 3001)]
    pub socket_port: u16,

    /// Address to bind.
    #[arg(long, env = "BIND_ADDRESS", default_value = "0.0.0.0")]
    pub bind_address: String,

    /// Folder for the SQLite database, the generated JWT secret and uploads.
    #[arg(long, env = "DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// postgres://user:pass@host/db for PostgreSQL, sqlite://path for another
    /// SQLite file; unset: SQLite at DATA_DIR/leetchat.db.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Secret for signing access tokens (at least 32 bytes). Unset: generated
    /// once and kept in DATA_DIR/jwt_secret (mode 0600). Nodes of one cluster
    /// must share it.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Access token lifetime, e.g. 15m, 1h, 900.
    #[arg(long, env = "JWT_EXPIRATION", default_value = "15m", value_parser = parse_duration)]
    pub jwt_expiration: Duration,

    /// Refresh token lifetime (per device, renewed on every refresh).
    #[arg(long, env = "REFRESH_EXPIRATION", default_value = "30d", value_parser = parse_duration)]
    pub refresh_expiration: Duration,

    /// Comma-separated origins allowed for CORS and the WebSocket upgrade
    /// (`*` allows any). Requests without an Origin header (native apps) are allowed.
    #[arg(
        long,
        env = "ALLOWED_ORIGINS",
        default_value = "http://localhost:3000,http://localhost:3001",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,

    /// Largest upload in bytes (10485760, 10MiB, ...).
    #[arg(long, env = "MAX_FILE_SIZE", default_value = "10485760", value_parser = parse_bytes)]
    pub max_file_size: u64,

    /// Most memory one image may take to decode, in bytes (width x height x
    /// channels x bytes per channel). A small file can declare a huge image:
    /// one that would take more is refused (413) before it is decoded.
    #[arg(long, env = "IMAGE_DECODE_MAX_BYTES", default_value = "160MiB", value_parser = parse_bytes)]
    pub image_decode_max_bytes: u64,

    /// Images decoded at once, server-wide; other uploads wait their turn
    /// (up to 30 s, then 503, nothing saved). With IMAGE_DECODE_MAX_BYTES
    /// this bounds the memory images can take.
    #[arg(long, env = "IMAGE_DECODES", default_value_t = 2)]
    pub image_decodes: u32,

    /// S3-compatible bucket for uploads (shared by every node). Unset: files
    /// live in PostgreSQL when that is the database, else under DATA_DIR.
    #[arg(long, env = "UPLOAD_BUCKET")]
    pub upload_bucket: Option<String>,

    /// Endpoint of an S3-compatible service (MinIO, Ceph, ...); unset: AWS.
    #[arg(long, env = "UPLOAD_ENDPOINT")]
    pub upload_endpoint: Option<String>,

    /// Region of the bucket.
    #[arg(long, env = "UPLOAD_REGION", default_value = "us-east-1")]
    pub upload_region: String,

    /// Access key for the bucket.
    #[arg(long, env = "AWS_ACCESS_KEY_ID", hide_env_values = true)]
    pub upload_access_key_id: Option<String>,

    /// Secret key for the bucket.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub upload_secret_access_key: Option<String>,

    /// Who may make an account: `open` (anyone who reaches the server),
    /// `invite` (with a server invite from `leetchat-server admin invite
    /// create`), `closed` (nobody; admins make accounts with
    /// `leetchat-server admin create-user`).
    #[arg(long, env = "REGISTRATION", value_enum, default_value_t = Registration::Open)]
    pub registration: Registration,

    /// Uploads no message carries are removed after this long.
    #[arg(long, env = "UPLOAD_TTL", default_value = "24h", value_parser = parse_duration)]
    pub upload_ttl: Duration,

    /// The rate limits, one per action.
    #[command(flatten)]
    pub rate_limits: RateLimits,

    /// Link previews: on or off, which private hosts they may fetch, limits.
    #[command(flatten)]
    pub link_previews: crate::previews::settings::PreviewSettings,

    /// Web Push: the VAPID key, the hosts endpoints may use, retries.
    #[command(flatten)]
    pub web_push: crate::push::settings::PushSettings,

    /// Proxies whose `X-Forwarded-For` names the client (comma-separated
    /// addresses or CIDR blocks, e.g. `127.0.0.1,10.0.0.0/8`). The address
    /// per-address limits use is the nearest one in that header not itself
    /// a trusted proxy. Unset: the header is ignored and the peer address
    /// is the client's (right when nothing sits in front of the server).
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_net)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Time a client has to send a request's headers, and the longest a
    /// kept-alive HTTP connection may sit idle between requests.
    #[arg(long, env = "HTTP_HEADER_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub http_header_timeout: Duration,

    /// Longest silence allowed while a request body (an upload) streams in;
    /// a stalled upload is ended with `invalid`.
    #[arg(long, env = "HTTP_BODY_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub http_body_timeout: Duration,

    /// Open connections allowed from one client address (0: no cap).
    /// Connections from TRUSTED_PROXIES are not counted.
    #[arg(long, env = "MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 256)]
    pub max_connections_per_address: u32,

    /// Sockets one device (one sign-in) may keep open on a node; opening
    /// more closes its oldest with 4429.
    #[arg(long, env = "MAX_SOCKETS_PER_DEVICE", default_value_t = 16)]
    pub max_sockets_per_device: u32,

    /// How often the server pings each WebSocket.
    #[arg(long, env = "PING_INTERVAL", default_value = "25s", value_parser = parse_duration)]
    pub ping_interval: Duration,

    /// A WebSocket silent for this long is dropped.
    #[arg(long, env = "IDLE_TIMEOUT", default_value = "60s", value_parser = parse_duration)]
    pub idle_timeout: Duration,

    /// Presence changes are pushed to people who share a direct room, or a
    /// group of at most this many members, with the user. Members of larger
    /// groups ask with `presence.get`: pushing every change to every member
    /// grows with the square of the group (a 1,000-member group coming back
    /// after a blip would be a million pushes).
    #[arg(long, env = "PRESENCE_GROUP_LIMIT", default_value_t = 50)]
    pub presence_group_limit: u32,

    /// Database connections per node.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 16)]
    pub database_max_connections: u32,

    /// Redis for running several nodes (e.g. `redis://127.0.0.1:6379/0`):
    /// fan-out between nodes, shared presence and rate limits. Unset: one
    /// node, in-process bus.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// Redis host, when REDIS_URL is not given (the original design's names).
    #[arg(long, env = "REDIS_HOST")]
    pub redis_host: Option<String>,

    /// Redis port, with REDIS_HOST.
    #[arg(long, env = "REDIS_PORT", default_value_t = 6379)]
    pub redis_port: u16,

    /// Redis password, with REDIS_HOST.
    #[arg(long, env = "REDIS_PASSWORD", hide_env_values = true)]
    pub redis_password: Option<String>,

    /// Redis database number, with REDIS_HOST.
    #[arg(long, env = "REDIS_DB", default_value_t = 0)]
    pub redis_db: u32,

    /// Prefix of every Redis key and channel (several deployments can share
    /// one Redis with different prefixes).
    #[arg(long, env = "REDIS_PREFIX", default_value = "leetchat")]
    pub redis_prefix: String,

    /// How often a node tells the others it is alive. A node silent for four
    /// beats is taken for dead: its users go offline.
    #[arg(long, env = "CLUSTER_HEARTBEAT", default_value = "10s", value_parser = parse_duration)]
    pub cluster_heartbeat: Duration,

    /// This node's id in the cluster (random when unset; must differ per node).
    #[arg(long, env = "NODE_ID")]
    pub node_id: Option<u32>,

    /// Log as JSON lines instead of text.
    #[arg(long, env = "LOG_JSON", default_value_t = false)]
    pub log_json: bool,

    /// A command instead of serving (`leetchat-server admin --help`).
    #[command(subcommand)]
    pub command: Option<crate::admin::Command>,
}

impl Config {
    /// The default configuration, as if no variable were set.
    pub fn defaults() -> Self {
        Config::parse_from_args(["leetchat-server"]).expect("the defaults parse")
    }

    /// Parses flags and environment; errors carry clap's message.
    pub fn parse_from_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let c = Config::try_parse_from(args)?;
        c.check()
            .map_err(|m| clap::Error::raw(clap::error::ErrorKind::ValueValidation, m))?;
        Ok(c)
    }

    fn check(&self) -> Result<(), String> {
        if let Some(s) = &self.jwt_secret
            && s.len() < 32
        {
            return Err("JWT_SECRET must be at least 32 bytes long\n".into());
        }
        if let Some(url) = &self.database_url
            && DatabaseKind::of(url).is_none()
        {
            return Err(
                "DATABASE_URL must start with postgres://, postgresql:// or sqlite:\n".into(),
            );
        }
        for o in &self.allowed_origins {
            if o != "*" && !(o.contains("://")) {
                return Err(format!(
                    "ALLOWED_ORIGINS entries must be origins like https://chat.example.com, got {o:?}\n"
                ));
            }
        }
        if self.idle_timeout <= self.ping_interval {
            return Err("IDLE_TIMEOUT must be longer than PING_INTERVAL\n".into());
        }
        if let Some(u) = &self.redis_url
            && !u.starts_with("redis://")
        {
            return Err("REDIS_URL must start with redis:// (TLS to Redis is not supported; use a local or tunnelled Redis)\n".into());
        }
        if self.redis_prefix.is_empty() || self.redis_prefix.contains(char::is_whitespace) {
            return Err("REDIS_PREFIX must be a non-empty word\n".into());
        }
        if self.presence_group_limit < 2 {
            return Err("PRESENCE_GROUP_LIMIT must be at least 2\n".into());
        }
        if self.image_decodes == 0 {
            return Err("IMAGE_DECODES must be at least 1\n".into());
        }
        if self.database_max_connections == 0 {
            return Err("DATABASE_MAX_CONNECTIONS must be at least 1\n".into());
        }
        Ok(())
    }

    /// The Redis to use: REDIS_URL, or one built from REDIS_HOST and friends.
    pub fn redis_url(&self) -> Option<String> {
        if let Some(u) = &self.redis_url {
            return Some(u.clone());
        }
        let host = self.redis_host.as_ref()?;
        let auth = match &self.redis_password {
            Some(p) => format!(":{}@", url_escape(p)),
            None => String::new(),
        };
        Some(format!(
            "redis://{auth}{host}:{}/{}",
            self.redis_port, self.redis_db
        ))
    }

    /// The database to use: DATABASE_URL, or SQLite under DATA_DIR.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("leetchat.db").display()
            ),
        }
    }

    /// Whether a request from `origin` is allowed (no Origin header: always).
    pub fn origin_allowed(&self, origin: Option<&str>) -> bool {
        match origin {
            None => true,
            Some(o) => self
                .allowed_origins
                .iter()
                .any(|a| a == "*" || a.trim_end_matches('/').eq_ignore_ascii_case(o)),
        }
    }
}

/// Percent-escapes what may not appear raw in a URL's userinfo.
fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Which engine a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl DatabaseKind {
    /// The engine of `url`, if supported.
    pub fn of(url: &str) -> Option<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(DatabaseKind::Postgres)
        } else if url.starts_with("sqlite:") {
            Some(DatabaseKind::Sqlite)
        } else {
            None
        }
    }
}

/// Reads the JWT secret from `DATA_DIR/jwt_secret`, creating it (0600) with
/// 64 random bytes the first time.
pub fn load_or_create_secret(data_dir: &Path) -> std::io::Result<Vec<u8>> {
    use rand::RngCore;

    let path = data_dir.join("jwt_secret");
    if let Some(bytes) = read_private_file(&path)? {
        if bytes.len() < 32 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} is shorter than 32 bytes", path.display()),
            ));
        }
        return Ok(bytes);
    }
    let mut secret = vec![0u8; 64];
    rand::rng().fill_bytes(&mut secret);
    keep_private_file(&path, &secret)
}

/// A private file's bytes; `None` when it does not exist.
pub fn read_private_file(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Creates `path` (mode 0600, its folder if needed) holding `contents`, and
/// returns what it holds: `contents`, or what another process wrote first.
pub fn keep_private_file(path: &Path, contents: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;

    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(mut f) => {
            f.write_all(contents)?;
            f.sync_all()?;
            Ok(contents.to_vec())
        }
        // another process created it first: use theirs
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => std::fs::read(path),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_parse_count_per_seconds() {
        assert_eq!("10/60".parse::<RateLimit>(), Ok(RateLimit::new(10, 60)));
        assert!("10".parse::<RateLimit>().is_err());
        assert!("0/60".parse::<RateLimit>().is_err());
        assert!("ten/60".parse::<RateLimit>().is_err());
    }

    #[test]
    fn durations_and_sizes_accept_units() {
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86400)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert!(parse_duration("soon").is_err());
        assert_eq!(parse_bytes("10485760"), Ok(10 << 20));
        assert_eq!(parse_bytes("10MiB"), Ok(10 << 20));
        assert!(parse_bytes("10 parsecs").is_err());
    }

    #[test]
    fn defaults_match_the_documented_values() {
        let c = Config::defaults();
        assert_eq!(c.socket_port, 3001);
        assert_eq!(c.jwt_expiration, Duration::from_secs(900));
        let l = c.rate_limits;
        assert_eq!(l.message, RateLimit::new(10, 60));
        assert_eq!(l.edit, RateLimit::new(30, 60));
        assert_eq!(l.read, RateLimit::new(120, 60));
        assert_eq!(l.file, RateLimit::new(5, 300));
        assert_eq!(l.room_create, RateLimit::new(3, 3600));
        assert_eq!(l.direct, RateLimit::new(30, 3600));
        assert_eq!(l.room_change, RateLimit::new(30, 60));
        assert_eq!(l.reaction, RateLimit::new(60, 60));
        assert_eq!(l.pin, RateLimit::new(30, 60));
        assert_eq!(l.typing, RateLimit::new(30, 60));
        assert_eq!(l.sync, RateLimit::new(60, 60));
        assert_eq!(l.auth, RateLimit::new(20, 60));
        assert_eq!(l.auth_account, RateLimit::new(100, 60));
        assert_eq!(l.register, RateLimit::new(20, 3600));
        assert_eq!(l.report, RateLimit::new(10, 60));
        assert!(c.trusted_proxies.is_empty());
        assert_eq!(c.max_file_size, 10 << 20);
        assert_eq!(c.image_decode_max_bytes, 160 << 20);
        assert_eq!(c.image_decodes, 2);
        assert_eq!(c.http_header_timeout, Duration::from_secs(10));
        assert_eq!(c.http_body_timeout, Duration::from_secs(30));
        assert_eq!(c.max_connections_per_address, 256);
        assert_eq!(c.max_sockets_per_device, 16);
        assert_eq!(c.registration, Registration::Open);
    }

    #[test]
    fn registration_takes_its_three_modes() {
        let c = Config::parse_from_args(["x", "--registration", "invite"]).expect("parses");
        assert_eq!(c.registration, Registration::Invite);
        let e = Config::parse_from_args(["x", "--registration", "friends"])
            .expect_err("not a mode")
            .to_string();
        assert!(e.contains("open") && e.contains("closed"), "{e}");
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let e = Config::parse_from_args(["x", "--rate-limit-message", "lots"])
            .expect_err("must fail")
            .to_string();
        assert!(
            e.contains("RATE_LIMIT_MESSAGE") || e.contains("rate-limit-message"),
            "{e}"
        );
        let e = Config::parse_from_args(["x", "--jwt-secret", "short"])
            .expect_err("must fail")
            .to_string();
        assert!(e.contains("JWT_SECRET"), "{e}");
    }

    #[test]
    fn trusted_proxies_take_addresses_and_blocks() {
        let c = Config::parse_from_args(["x", "--trusted-proxies", "127.0.0.1,10.0.0.0/8,::1"])
            .expect("parses");
        assert_eq!(c.trusted_proxies.len(), 3);
        assert!(
            c.trusted_proxies[1]
                .contains(&"10.2.3.4".parse::<std::net::IpAddr>().expect("an address"))
        );
        let e = Config::parse_from_args(["x", "--trusted-proxies", "nginx"])
            .expect_err("a name is not an address")
            .to_string();
        assert!(e.contains("CIDR"), "{e}");
    }

    #[test]
    fn origins_are_checked_only_when_sent() {
        let c = Config::defaults();
        assert!(c.origin_allowed(None));
        assert!(c.origin_allowed(Some("http://localhost:3000")));
        assert!(!c.origin_allowed(Some("https://evil.example")));
    }
}
