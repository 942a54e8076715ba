//! What an upload really is: the type sniffed from its bytes (never from its
//! name or Content-Type) against an allowlist, and a safe display name.

/// Types accepted, by sniffed MIME type, with the extensions a file of
/// that type may be named with (the first is added when a name has none of
/// them, so the name a downloader's system acts on agrees with the bytes).
const ALLOWED: &[(&str, &[&str])] = &[
    ("image/png", &["png"]),
    ("image/jpeg", &["jpg", "jpeg", "jpe", "jfif"]),
    ("image/gif", &["gif"]),
    ("image/webp", &["webp"]),
    ("application/pdf", &["pdf"]),
    ("application/zip", &["zip"]),
    ("application/gzip", &["gz", "tgz"]),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &["docx"],
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &["xlsx"],
    ),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        &["pptx"],
    ),
    ("application/vnd.oasis.opendocument.text", &["odt"]),
    ("application/vnd.oasis.opendocument.spreadsheet", &["ods"]),
    ("audio/mpeg", &["mp3"]),
    ("audio/ogg", &["ogg", "oga", "opus"]),
    ("audio/x-wav", &["wav"]),
    ("audio/x-flac", &["flac"]),
    ("audio/m4a", &["m4a"]),
    ("video/mp4", &["mp4", "m4v"]),
    ("video/webm", &["webm"]),
    ("video/quicktime", &["mov"]),
    // Text is served as text/plain, but a downloaded `notes.bat` or
    // `setup.sh` is run by name: only data formats keep their extension.
    (
        "text/plain",
        &[
            "txt", "text", "md", "markdown", "csv", "tsv", "log", "json", "yaml", "yml", "toml",
            "ini", "conf", "cfg", "srt", "vtt",
        ],
    ),
];

/// Images we decode, measure and thumbnail.
pub fn is_image(mime: &str) -> bool {
    matches!(
        mime,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp"
    )
}

/// The sniffed type of a file whose first bytes are `head` (and, for text,
/// all of `whole` when given). `None`: not allowed.
pub fn sniff(head: &[u8], whole_is_utf8_text: bool) -> Option<&'static str> {
    match infer::get(head) {
        Some(t) => ALLOWED
            .iter()
            .map(|(mime, _)| *mime)
            .find(|a| *a == t.mime_type()),
        None if whole_is_utf8_text => Some("text/plain"),
        None => None,
    }
}

/// Whether bytes look like text: valid UTF-8 so far, no NUL bytes. `tail`
/// carries an incomplete UTF-8 sequence over chunk boundaries.
#[derive(Debug, Default)]
pub struct TextCheck {
    tail: Vec<u8>,
    bad: bool,
}

impl TextCheck {
    /// Feeds the next chunk.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.bad {
            return;
        }
        let mut buf = std::mem::take(&mut self.tail);
        buf.extend_from_slice(chunk);
        if buf.contains(&0) {
            self.bad = true;
            return;
        }
        match std::str::from_utf8(&buf) {
            Ok(_) => {}
            Err(e) if e.error_len().is_none() => self.tail = buf[e.valid_up_to()..].to_vec(),
            Err(_) => self.bad = true,
        }
    }

    /// True when everything fed was text.
    pub fn is_text(&self) -> bool {
        !self.bad && self.tail.is_empty()
    }
}

/// A display name from an untrusted file name, for a file sniffed as
/// `mime`: no directories; no control, format (bidi overrides and isolates,
/// zero-width characters, BOM) or line-separator characters, so the name
/// reads as it is; no leading dots; at most 200 characters; and an extension
/// that agrees with `mime` (one is added when it does not: `run.bat` that is
/// text becomes `run.bat.txt`).
pub fn sanitize_name(raw: Option<&str>, mime: &str) -> String {
    use unicode_properties::{GeneralCategory as G, UnicodeGeneralCategory};
    let base = raw.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| {
            !matches!(
                c.general_category(),
                G::Control | G::Format | G::LineSeparator | G::ParagraphSeparator
            ) && !matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*')
        })
        .take(200)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    let stem = if cleaned.is_empty() { "file" } else { cleaned };
    let Some((_, exts)) = ALLOWED.iter().find(|(m, _)| *m == mime) else {
        return stem.to_owned();
    };
    let agrees = stem
        .rsplit_once('.')
        .is_some_and(|(_, ext)| exts.iter().any(|e| e.eq_ignore_ascii_case(ext.trim())));
    if agrees {
        return stem.to_owned();
    }
    // Keep room for the extension within the 200 characters.
    let keep: String = stem.chars().take(200 - exts[0].len() - 1).collect();
    format!("{}.{}", keep.trim_end_matches('.'), exts[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_paths_and_control_characters() {
        let t = "text/plain";
        assert_eq!(sanitize_name(Some("../../etc/passwd"), t), "passwd.txt");
        assert_eq!(
            sanitize_name(Some("C:\\Users\\x\\evil.pdf"), "application/pdf"),
            "evil.pdf"
        );
        assert_eq!(sanitize_name(Some("..hidden.txt"), t), "hidden.txt");
        assert_eq!(sanitize_name(Some("a\u{0}b\nc.txt"), t), "abc.txt");
        assert_eq!(sanitize_name(Some(""), t), "file.txt");
        assert_eq!(sanitize_name(None, "image/png"), "file.png");
        let long = sanitize_name(Some(&"x".repeat(500)), t);
        assert_eq!(long.chars().count(), 200);
        assert!(long.ends_with(".txt"), "{long}");
    }

    #[test]
    fn names_read_as_they_are_and_their_extension_agrees_with_the_bytes() {
        let t = "text/plain";
        // The right-to-left override made this read "invoicetab.pdf".
        assert_eq!(
            sanitize_name(Some("invoice\u{202e}fdp.bat"), t),
            "invoicefdp.bat.txt"
        );
        for format in [
            '\u{200b}', '\u{200e}', '\u{2066}', '\u{2069}', '\u{feff}', '\u{2028}',
        ] {
            assert_eq!(sanitize_name(Some(&format!("a{format}b.txt")), t), "ab.txt");
        }
        assert_eq!(sanitize_name(Some("notes.MD"), t), "notes.MD");
        assert_eq!(sanitize_name(Some("setup.sh"), t), "setup.sh.txt");
        assert_eq!(sanitize_name(Some("photo.JPG"), "image/jpeg"), "photo.JPG");
        assert_eq!(
            sanitize_name(Some("photo.png"), "image/jpeg"),
            "photo.png.jpg"
        );
        assert_eq!(
            sanitize_name(Some("report"), "application/pdf"),
            "report.pdf"
        );
        assert_eq!(
            sanitize_name(Some("trailing."), "application/pdf"),
            "trailing.pdf"
        );
        // Letters of every script stay.
        assert_eq!(sanitize_name(Some("Приём 会议.txt"), t), "Приём 会议.txt");
    }

    #[test]
    fn types_come_from_the_bytes() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(sniff(png, false), Some("image/png"));
        let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0";
        assert_eq!(
            sniff(elf, false),
            None,
            "executables are refused whatever their name"
        );
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0", false), None);
        assert_eq!(sniff(b"hello", true), Some("text/plain"));
        assert_eq!(sniff(b"\x01\x02\x03", false), None);
    }

    #[test]
    fn text_detection_survives_split_utf8_and_catches_binary() {
        let mut t = TextCheck::default();
        let s = "héllo wörld".as_bytes();
        t.feed(&s[..2]);
        t.feed(&s[2..]);
        assert!(t.is_text());
        let mut b = TextCheck::default();
        b.feed(b"abc\0def");
        assert!(!b.is_text());
    }
}
