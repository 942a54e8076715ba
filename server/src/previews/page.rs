//! What a web page says about itself: its OpenGraph (`og:*`) and Twitter
//! card tags, else its `<title>` and `<meta name="description">`, read with
//! an HTML5 parser (dom_query, on html5ever), never with patterns.

use url::Url;

/// Longest title kept, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest description kept, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 300;
/// Longest site name kept, in characters.
pub const MAX_SITE_NAME_CHARS: usize = 100;

/// The parts of a page a preview shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageInfo {
    /// The page's title.
    pub title: Option<String>,
    /// Its summary.
    pub description: Option<String>,
    /// The site's own name (`og:site_name`).
    pub site_name: Option<String>,
    /// The picture it offers for previews, resolved against the page's URL
    /// (http or https only).
    pub image: Option<Url>,
}

impl PageInfo {
    /// Whether there is anything worth showing (a bare image is not: a
    /// preview names what the link is).
    pub fn is_useful(&self) -> bool {
        self.title.is_some() || self.description.is_some()
    }
}

/// Reads a page's preview fields. `url` is where the page was fetched from
/// (after redirects), for relative image URLs.
pub fn page_info(html: &str, url: &Url) -> PageInfo {
    let doc = dom_query::Document::from(html);
    // Every <meta> with a property or name, lower-cased, first one wins.
    let mut metas: Vec<(String, String)> = Vec::new();
    for node in doc.select("meta").nodes() {
        let key = node
            .attr("property")
            .or_else(|| node.attr("name"))
            .map(|k| k.trim().to_ascii_lowercase());
        let value = node.attr("content").map(|v| v.to_string());
        if let (Some(k), Some(v)) = (key, value) {
            metas.push((k, v));
        }
    }
    let meta = |keys: &[&str]| -> Option<String> {
        keys.iter().find_map(|k| {
            metas
                .iter()
                .find(|(mk, v)| mk == k && !v.trim().is_empty())
                .map(|(_, v)| v.clone())
        })
    };
    let title = meta(&["og:title", "twitter:title"])
        .or_else(|| Some(doc.select("head title").first().text().to_string()))
        .and_then(|t| clean(&t, MAX_TITLE_CHARS));
    let description = meta(&["og:description", "twitter:description", "description"])
        .and_then(|d| clean(&d, MAX_DESCRIPTION_CHARS));
    let site_name =
        meta(&["og:site_name", "application-name"]).and_then(|s| clean(&s, MAX_SITE_NAME_CHARS));
    let image = meta(&[
        "og:image:secure_url",
        "og:image",
        "og:image:url",
        "twitter:image",
        "twitter:image:src",
    ])
    .and_then(|i| url.join(i.trim()).ok())
    .filter(|u| matches!(u.scheme(), "http" | "https"));
    PageInfo {
        title,
        description,
        site_name,
        image,
    }
}

/// One line of plain text: whitespace runs become one space, control and
/// format characters (bidi overrides, zero-width) go, at most `max`
/// characters (an ellipsis marks a cut). `None` when nothing is left.
pub fn clean(text: &str, max: usize) -> Option<String> {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    let mut out = String::new();
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if matches!(
            c.general_category(),
            GeneralCategory::Control | GeneralCategory::Format
        ) {
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    if out.is_empty() {
        return None;
    }
    if out.chars().count() > max {
        let cut: String = out.chars().take(max.saturating_sub(1)).collect();
        return Some(format!("{}…", cut.trim_end()));
    }
    Some(out)
}

/// The page's text: the `charset` its Content-Type names (any label the
/// WHATWG Encoding Standard knows), else UTF-8; bad bytes become U+FFFD.
pub fn decode(body: &[u8], content_type: Option<&str>) -> String {
    let label = content_type.and_then(|ct| {
        ct.split(';')
            .skip(1)
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
            .map(|(_, v)| v.trim().trim_matches('"').to_owned())
    });
    let encoding = label
        .and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    let (text, _, _) = encoding.decode(body);
    text.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://example.com/blog/post").unwrap()
    }

    #[test]
    fn opengraph_tags_win_over_title_and_description() {
        let html = r#"<!doctype html><html><head>
            <title>Plain title</title>
            <meta name="description" content="plain description">
            <meta property="og:title" content="  The   OG title ">
            <meta property="og:description" content="What it is about">
            <meta property="og:site_name" content="Example Blog">
            <meta property="og:image" content="/img/cover.png">
            </head><body><h1>x</h1></body></html>"#;
        let p = page_info(html, &base());
        assert_eq!(p.title.as_deref(), Some("The OG title"));
        assert_eq!(p.description.as_deref(), Some("What it is about"));
        assert_eq!(p.site_name.as_deref(), Some("Example Blog"));
        assert_eq!(
            p.image.map(String::from).as_deref(),
            Some("https://example.com/img/cover.png")
        );
    }

    #[test]
    fn a_page_without_opengraph_gives_its_title_and_meta_description() {
        let html = "<html><head><TITLE>Docs &amp; more</TITLE>\
            <META NAME=Description CONTENT='Read the docs'></head></html>";
        let p = page_info(html, &base());
        assert_eq!(p.title.as_deref(), Some("Docs & more"));
        assert_eq!(p.description.as_deref(), Some("Read the docs"));
        assert_eq!(p.site_name, None);
        assert_eq!(p.image, None);
        assert!(p.is_useful());
    }

    #[test]
    fn images_with_other_schemes_are_dropped_and_nothing_is_not_useful() {
        let html = r#"<head><meta property="og:image" content="javascript:alert(1)">
            <meta property="og:image" content="data:image/png;base64,AAAA"></head>"#;
        let p = page_info(html, &base());
        assert_eq!(p.image, None);
        assert!(!p.is_useful(), "{p:?}");
    }

    #[test]
    fn text_is_one_clean_line_and_long_text_is_cut() {
        assert_eq!(
            clean("a\u{202e}b\n\tc\u{200b}d\u{7}", 50).as_deref(),
            Some("ab cd")
        );
        assert_eq!(clean(" \n ", 10), None);
        let long = "word ".repeat(100);
        let cut = clean(&long, MAX_TITLE_CHARS).unwrap();
        assert_eq!(cut.chars().count(), MAX_TITLE_CHARS);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn markup_in_attributes_stays_text() {
        let html = r#"<head><meta property="og:title" content="<script>alert(1)</script> &lt;b&gt;"></head>"#;
        let p = page_info(html, &base());
        assert_eq!(p.title.as_deref(), Some("<script>alert(1)</script> <b>"));
    }

    #[test]
    fn the_declared_charset_decodes_the_page() {
        let latin1 = b"<title>Caf\xe9</title>";
        assert_eq!(
            decode(latin1, Some("text/html; charset=ISO-8859-1")),
            "<title>Café</title>"
        );
        assert_eq!(
            decode("<title>Café</title>".as_bytes(), Some("text/html")),
            "<title>Café</title>"
        );
    }
}
