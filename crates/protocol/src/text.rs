//! What every text on the wire must be, checked once where it comes in.
//!
//! No string of the contract (ids, names, content, `tempId`, map keys such
//! as the room ids of `sync`'s `since`) may contain U+0000: PostgreSQL
//! cannot store it in `text`, SQLite would store it and cut it off in some
//! readers, and no client means it. Rather than each field's type remembering
//! the rule, the server applies [`check_value`] to every request's `data` and
//! every JSON body before parsing them into their types, and [`check_str`] to
//! paths, queries and file names: a field added later is covered without
//! anyone having to remember.

use serde_json::Value;

/// Why a text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadText {
    /// Where, as a JSON path (`.`, `.content`, `.since["r1"]`, `.userIds[2]`).
    pub path: String,
}

impl std::fmt::Display for BadText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} contains a NUL character (U+0000), which no text may hold",
            self.path
        )
    }
}

impl std::error::Error for BadText {}

/// Refuses a string holding U+0000.
pub fn check_str(s: &str, what: &str) -> Result<(), BadText> {
    if s.contains('\0') {
        Err(BadText {
            path: what.to_owned(),
        })
    } else {
        Ok(())
    }
}

/// Refuses a JSON value with U+0000 in any string or object key, at any depth.
pub fn check_value(v: &Value) -> Result<(), BadText> {
    let mut path = String::new();
    walk(v, &mut path)
}

fn walk(v: &Value, path: &mut String) -> Result<(), BadText> {
    match v {
        Value::String(s) => check_str(s, &shown(path)),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Object(map) => {
            for (k, item) in map {
                let len = path.len();
                if k.contains('\0') {
                    path.push_str(" (a key)");
                    return Err(BadText { path: shown(path) });
                }
                if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !k.is_empty() {
                    path.push('.');
                    path.push_str(k);
                } else {
                    path.push_str(&format!("[{k:?}]"));
                }
                walk(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

fn shown(path: &str) -> String {
    if path.is_empty() {
        ".".to_owned()
    } else if path.starts_with('.') {
        path.to_owned()
    } else {
        format!(".{path}")
    }
}

/// Checks a reaction's emoji (v1.1): 1 to [`crate::MAX_EMOJI_BYTES`] bytes,
/// no whitespace and no control characters. The answer says what is wrong.
pub fn check_emoji(emoji: &str) -> Result<(), &'static str> {
    if emoji.is_empty() || emoji.len() > crate::MAX_EMOJI_BYTES {
        return Err("emoji must be 1 to 32 bytes of UTF-8");
    }
    if emoji.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("emoji must not contain whitespace or control characters");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nul_is_found_in_strings_arrays_and_keys_at_any_depth() {
        assert_eq!(check_value(&json!({"content": "fine", "n": 1})), Ok(()));
        assert_eq!(
            check_value(&json!({"content": "a\u{0}b"})).map_err(|e| e.path),
            Err(".content".to_owned())
        );
        assert_eq!(
            check_value(&json!({"userIds": ["ok", "x\u{0}"]})).map_err(|e| e.path),
            Err(".userIds[1]".to_owned())
        );
        assert_eq!(
            check_value(&json!({"since": {"r\u{0}": 0}})).map_err(|e| e.path),
            Err(".since (a key)".to_owned())
        );
        assert_eq!(
            check_value(&json!({"since": {"room one": "\u{0}"}})).map_err(|e| e.path),
            Err(".since[\"room one\"]".to_owned())
        );
        assert_eq!(
            check_value(&json!("\u{0}")).map_err(|e| e.path),
            Err(".".to_owned())
        );
        // The six characters of the escape are text like any other.
        assert_eq!(check_value(&json!({"content": "\\u0000"})), Ok(()));
    }

    #[test]
    fn the_error_names_where() {
        let e = check_value(&json!({"name": "\u{0}"})).expect_err("refused");
        assert_eq!(
            e.to_string(),
            ".name contains a NUL character (U+0000), which no text may hold"
        );
    }

    #[test]
    fn emoji_are_short_and_have_no_spaces_or_controls() {
        for ok in ["👍", "❤️", "👩‍👩‍👧‍👦", "🇫🇷", ":+1:", "a"] {
            assert_eq!(check_emoji(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            " ",
            "👍 ",
            "a\tb",
            "\u{7}",
            "\0",
            "\u{85}",
            &"😀".repeat(9),
        ] {
            assert!(check_emoji(bad).is_err(), "{bad:?}");
        }
    }
}
