//! Which link of a message gets a preview: the first `http(s)` link of its
//! Markdown, in reading order, whether written `[text](url)`, `<url>` or as
//! a bare URL, outside code spans and code blocks. Read with a CommonMark
//! parser (pulldown-cmark) and a URL finder (linkify), as the app renders
//! the same text.

use linkify::{LinkFinder, LinkKind};
use pulldown_cmark::{Event, Parser, Tag, TagEnd};
use url::Url;

/// The message's first http(s) link, normalised (`None` if it has none).
pub fn first_link(content: &str) -> Option<Url> {
    let finder = {
        let mut f = LinkFinder::new();
        f.kinds(&[LinkKind::Url]);
        f
    };
    // Code blocks come as text events between their start and end.
    let mut in_code_block = false;
    for event in Parser::new(content) {
        let candidate = match event {
            Event::Start(Tag::CodeBlock(_)) => {
                in_code_block = true;
                None
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code_block = false;
                None
            }
            Event::Start(Tag::Link { dest_url, .. }) => Some(dest_url.to_string()),
            Event::Text(text) if !in_code_block => {
                finder.links(&text).next().map(|l| l.as_str().to_owned())
            }
            _ => None,
        };
        if let Some(url) = candidate.and_then(|c| Url::parse(&c).ok())
            && matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some()
        {
            return Some(without_fragment(url));
        }
    }
    None
}

/// The URL without its `#fragment`: the page is the same, so is its preview.
fn without_fragment(mut url: Url) -> Url {
    url.set_fragment(None);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(s: &str) -> Option<String> {
        first_link(s).map(String::from)
    }

    #[test]
    fn bare_autolinked_and_markdown_links_are_found_in_order() {
        assert_eq!(
            first("see https://example.com/docs, then http://b.org").as_deref(),
            Some("https://example.com/docs")
        );
        assert_eq!(
            first("[the docs](https://example.com/a?b=1) and https://c.org").as_deref(),
            Some("https://example.com/a?b=1")
        );
        assert_eq!(
            first("<https://example.com/x>").as_deref(),
            Some("https://example.com/x")
        );
        assert_eq!(
            first("(see https://example.com/y).").as_deref(),
            Some("https://example.com/y")
        );
    }

    #[test]
    fn links_in_code_other_schemes_and_no_links_give_nothing() {
        assert_eq!(first("`https://example.com/in-code`"), None);
        assert_eq!(first("```\nhttps://example.com/block\n```"), None);
        assert_eq!(first("    https://example.com/indented-code"), None);
        assert_eq!(first("ftp://example.com/file mailto:a@b.org"), None);
        assert_eq!(first("[x](javascript:alert(1))"), None);
        assert_eq!(first("no links here, only example.com"), None);
        assert_eq!(
            first("`https://skipped.org` but https://kept.org").as_deref(),
            Some("https://kept.org/")
        );
    }

    #[test]
    fn the_fragment_is_not_part_of_the_page() {
        assert_eq!(
            first("https://example.com/page#section-2").as_deref(),
            Some("https://example.com/page")
        );
    }
}
