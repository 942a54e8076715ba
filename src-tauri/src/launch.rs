//! What the app was started with that the sign-in form should suggest: the
//! server address from a `leetchat://…?server=…` link the app was opened
//! with, from `LEETCHAT_SERVER` (the terminal client reads it too), or from
//! `config.json` in the app's config folder (`{"server": "https://…"}`), so
//! an operator who hands the app out can fill the address in for people.

use serde::Serialize;
use tauri::Url;

/// The file an operator may put in the app's config folder.
pub const CONFIG_FILE: &str = "config.json";

/// Where a suggested address came from. A link or the environment was
/// given for this start, so they win over the address the form remembers
/// from last time; the config file is an installation's default, so the
/// remembered address wins over it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Source {
    /// A `leetchat://` link on the command line (how Linux and Windows start
    /// the app for a link).
    Link,
    /// `LEETCHAT_SERVER`.
    Env,
    /// `config.json`.
    Config,
}

/// The address the sign-in form should suggest, and where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SuggestedServer {
    /// An `http(s)://` address without a trailing slash.
    pub server: String,
    /// Where it came from.
    pub from: Source,
}

/// `candidate` as an address without a trailing slash, if it is an
/// `http(s)://` address with a host and no user name or password (in
/// `https://chat.example.org@evil.example` the server is evil.example: a
/// link must not dress one server up as another).
fn usable(candidate: &str) -> Option<String> {
    let t = candidate.trim().trim_end_matches('/');
    let url = Url::parse(t).ok()?;
    (matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.username().is_empty()
        && url.password().is_none())
    .then(|| t.to_owned())
}

/// The `server=` of the first `leetchat://` link among `args`.
fn from_links(args: &[String]) -> Option<String> {
    args.iter().find_map(|a| {
        let url = Url::parse(a.trim()).ok()?;
        if url.scheme() != "leetchat" {
            return None;
        }
        let server = url.query_pairs().find(|(k, _)| k == "server")?.1;
        usable(&server)
    })
}

/// The first usable suggestion: a link in `args`, then `env`
/// (`LEETCHAT_SERVER`), then `config` (the text of `config.json`). Anything
/// that is not an `http(s)://` address with a host is passed over, with a
/// warning, rather than put in the form.
pub fn suggested_server(
    args: &[String],
    env: Option<&str>,
    config: Option<&str>,
) -> Option<SuggestedServer> {
    if let Some(server) = from_links(args) {
        return Some(SuggestedServer {
            server,
            from: Source::Link,
        });
    }
    if let Some(raw) = env.filter(|e| !e.trim().is_empty()) {
        match usable(raw) {
            Some(server) => {
                return Some(SuggestedServer {
                    server,
                    from: Source::Env,
                });
            }
            None => tracing::warn!(
                value = raw,
                "LEETCHAT_SERVER is not an http(s) address; ignored"
            ),
        }
    }
    let config = config?;
    let server = serde_json::from_str::<serde_json::Value>(config)
        .ok()
        .and_then(|v| v.get("server")?.as_str().map(str::to_owned));
    match server.as_deref().and_then(usable) {
        Some(server) => Some(SuggestedServer {
            server,
            from: Source::Config,
        }),
        None => {
            tracing::warn!("{CONFIG_FILE} has no \"server\" with an http(s) address; ignored");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_link_wins_then_the_environment_then_the_config_file() {
        let link = args(&[
            "leetchat-app",
            "leetchat://join?server=https%3A%2F%2Fchat.example.org%2F&code=abc",
        ]);
        let env = Some("https://env.example.org");
        let config = Some(r#"{"server": "https://config.example.org"}"#);
        let got = suggested_server(&link, env, config).unwrap();
        assert_eq!(
            got,
            SuggestedServer {
                server: "https://chat.example.org".into(),
                from: Source::Link
            }
        );
        let got = suggested_server(&args(&["leetchat-app"]), env, config).unwrap();
        assert_eq!(
            got,
            SuggestedServer {
                server: "https://env.example.org".into(),
                from: Source::Env
            }
        );
        let got = suggested_server(&[], None, config).unwrap();
        assert_eq!(
            got,
            SuggestedServer {
                server: "https://config.example.org".into(),
                from: Source::Config
            }
        );
        assert_eq!(suggested_server(&[], None, None), None);
    }

    #[test]
    fn what_is_not_an_http_address_is_passed_over() {
        let bad_link = args(&[
            "leetchat://join?server=javascript%3Aalert(1)&code=abc",
            "--flag",
        ]);
        let got = suggested_server(
            &bad_link,
            Some("ftp://x"),
            Some(r#"{"server": "http://10.0.0.2:3001/"}"#),
        );
        assert_eq!(
            got,
            Some(SuggestedServer {
                server: "http://10.0.0.2:3001".into(),
                from: Source::Config
            })
        );
        assert_eq!(suggested_server(&[], Some("  "), Some("not json")), None);
        assert_eq!(suggested_server(&[], None, Some(r#"{"server": 3}"#)), None);
        assert_eq!(
            suggested_server(&args(&["https://x.example?server=https://y"]), None, None),
            None
        );
        let disguised =
            args(&["leetchat://join?server=https%3A%2F%2Fchat.example.org%40evil.example&code=a"]);
        assert_eq!(suggested_server(&disguised, None, None), None);
        assert_eq!(
            suggested_server(&[], Some("https://u:p@chat.example.org"), None),
            None
        );
    }
}
