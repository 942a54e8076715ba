//! What an upload really is: the type sniffed from its bytes (never from its
//! name or Content-Type) against an allowlist, and a safe display name.

/// Types accepted, by sniffed MIME type.
const ALLOWED: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "application/zip",
    "application/gzip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "audio/mpeg",
    "audio/ogg",
    "audio/x-wav",
    "audio/x-flac",
    "audio/m4a",
    "video/mp4",
    "video/webm",
    "video/quicktime",
    "text/plain",
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
        Some(t) => ALLOWED.iter().copied().find(|a| *a == t.mime_type()),
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

/// A display name from an untrusted file name: no directories, no control
/// characters, no leading dots, at most 200 characters.
pub fn sanitize_name(raw: Option<&str>) -> String {
    let base = raw.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*'))
        .take(200)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim().to_owned();
    if cleaned.is_empty() {
        "file".to_owned()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_paths_and_control_characters() {
        assert_eq!(sanitize_name(Some("../../etc/passwd")), "passwd");
        assert_eq!(sanitize_name(Some("C:\\Users\\x\\evil.exe")), "evil.exe");
        assert_eq!(sanitize_name(Some("..hidden")), "hidden");
        assert_eq!(sanitize_name(Some("a\u{0}b\nc.txt")), "abc.txt");
        assert_eq!(sanitize_name(Some("")), "file");
        assert_eq!(sanitize_name(None), "file");
        assert_eq!(sanitize_name(Some(&"x".repeat(500))).len(), 200);
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
