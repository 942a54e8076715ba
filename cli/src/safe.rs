//! Other people's text on a terminal: control characters and bidi controls
//! made visible, so a message, a name or a file name can never move the
//! cursor, overwrite or fake a line, ring the bell, set the window title or
//! reorder what is shown.
//!
//! Every line goes through [`guard`] on its way out (see `output`), so a
//! field printed without [`visible`] still cannot reach the terminal raw;
//! other people's fields use [`visible`], which escapes line breaks and tabs
//! too.

/// Whether `c` must not reach a terminal as itself: C0 and C1 controls,
/// DEL, and the bidi embedding, override and isolate controls.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// How an unsafe character is shown: `\e` for escape, `\r`, `\t`, `\b`,
/// `\0`, else `\u{..}` with its code point.
fn show(c: char, out: &mut String) {
    match c {
        '\u{1b}' => out.push_str("\\e"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\u{8}' => out.push_str("\\b"),
        '\0' => out.push_str("\\0"),
        c => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
    }
}

/// `text` on one line with every unsafe character (line breaks included)
/// shown escaped.
pub fn visible(text: &str) -> String {
    escape(text, |_| false)
}

/// `text` with every unsafe character except line breaks and tabs (which
/// our own output uses between fields) shown escaped: the last step of every
/// line printed.
pub fn guard(text: &str) -> String {
    escape(text, |c| c == '\n' || c == '\t')
}

fn escape(text: &str, keep: impl Fn(char) -> bool) -> String {
    if !text.chars().any(|c| is_unsafe(c) && !keep(c)) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) && !keep(c) {
            show(c, &mut out);
        } else {
            out.push(c);
        }
    }
    out
}

/// A line of JSON with the unsafe characters serde leaves as themselves
/// (DEL, C1 controls, bidi controls) written as `\uXXXX` escapes: the same
/// JSON value, safe on a terminal.
pub fn json_line(json: &str) -> String {
    if !json.chars().any(is_unsafe) {
        return json.to_owned();
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        // Inside a JSON text unsafe characters can only be in strings (serde
        // already escapes C0 controls), where \uXXXX means the same.
        if is_unsafe(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_carriage_returns_and_bells_are_shown_not_sent() {
        let attack = "hi\r[1] 00:00 admin: fake\u{1b}]0;pwned\u{7}\u{1b}[2J";
        let shown = guard(attack);
        assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
        assert_eq!(shown, "hi\\r[1] 00:00 admin: fake\\e]0;pwned\\u{7}\\e[2J");
    }

    #[test]
    fn guard_keeps_line_breaks_and_tabs_and_visible_shows_them() {
        assert_eq!(guard("a\nb\tc"), "a\nb\tc");
        assert_eq!(visible("a\nb\tc"), "a\\nb\\tc");
        assert_eq!(visible("plain café ✓"), "plain café ✓");
    }

    #[test]
    fn bidi_overrides_and_c1_controls_are_shown() {
        assert_eq!(visible("invoice\u{202e}fdp.bat"), "invoice\\u{202e}fdp.bat");
        assert_eq!(visible("x\u{9b}31m"), "x\\u{9b}31m");
        assert_eq!(visible("del\u{7f}"), "del\\u{7f}");
    }

    #[test]
    fn json_lines_stay_the_same_value_without_raw_controls() {
        let v = serde_json::json!({"content": "a\u{9b}b\u{202e}c\u{1b}d\u{7f}"});
        let line = json_line(&serde_json::to_string(&v).unwrap());
        assert!(!line.chars().any(is_unsafe), "{line}");
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back, v);
    }
}
