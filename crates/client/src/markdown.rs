//! Message text where no Markdown is rendered (a terminal, a desktop
//! notification): the CommonMark subset the app renders, read with a
//! CommonMark parser (pulldown-cmark) and written back as plain lines.
//! Emphasis loses its markers, inline code keeps its backticks, code blocks
//! and quotes get a bar or `>` in front of each line, list items a bullet or
//! their number, and a link shows its address after its text. Raw HTML
//! stays text, as in the app.
//!
//! The result is still untrusted text: whoever shows it must make control
//! characters harmless (the terminal client does, in its `safe` module).

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

/// `content` (Markdown) on one line: [`plain`] with its line breaks as spaces.
pub fn one_line(content: &str) -> String {
    plain(content)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `content` (Markdown) as plain lines.
pub fn plain(content: &str) -> String {
    let mut w = Writer::default();
    let parser = Parser::new_ext(content, Options::ENABLE_STRIKETHROUGH);
    for event in parser {
        w.event(event);
    }
    w.finish()
}

/// What the renderer is inside of, to prefix lines and number items.
#[derive(Debug)]
enum Block {
    Quote,
    Code,
    List(Option<u64>),
}

#[derive(Debug, Default)]
struct Writer {
    out: String,
    line: String,
    blocks: Vec<Block>,
    /// Link destinations of the links being written, innermost last.
    links: Vec<(String, usize)>,
    /// A blank line goes before the next block.
    gap: bool,
}

impl Writer {
    /// The prefix of a line at the current depth.
    fn prefix(&self) -> String {
        let mut p = String::new();
        for b in &self.blocks {
            match b {
                Block::Quote => p.push_str("> "),
                Block::Code => p.push_str("│ "),
                Block::List(_) => p.push_str("  "),
            }
        }
        p
    }

    fn end_line(&mut self) {
        if !self.line.is_empty() {
            let prefix = self.prefix();
            if !self.out.is_empty() {
                self.out.push('\n');
            }
            self.out.push_str(&prefix);
            self.out.push_str(self.line.trim_end());
            self.line.clear();
        }
    }

    fn block_start(&mut self) {
        self.end_line();
        if self.gap && !self.out.is_empty() {
            self.out.push('\n');
        }
        self.gap = false;
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(Tag::Paragraph) => self.block_start(),
            Event::End(TagEnd::Paragraph) => {
                self.end_line();
                self.gap = self.blocks.is_empty();
            }
            Event::Start(Tag::BlockQuote(_)) => {
                self.block_start();
                self.blocks.push(Block::Quote);
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                self.block_start();
                if let CodeBlockKind::Fenced(lang) = &kind
                    && !lang.is_empty()
                {
                    self.line.push_str(&format!("[{lang}]"));
                    self.end_line();
                }
                self.blocks.push(Block::Code);
            }
            Event::Start(Tag::List(start)) => {
                self.block_start();
                self.blocks.push(Block::List(start));
            }
            Event::Start(Tag::Item) => {
                self.end_line();
                // The item's marker sits where its list's indent would.
                let marker = match self.blocks.last_mut() {
                    Some(Block::List(Some(n))) => {
                        let m = format!("{n}. ");
                        *n += 1;
                        m
                    }
                    _ => "• ".to_owned(),
                };
                let depth = self.blocks.len().saturating_sub(1);
                let mut prefix = String::new();
                for b in &self.blocks[..depth] {
                    prefix.push_str(match b {
                        Block::Quote => "> ",
                        Block::Code => "│ ",
                        Block::List(_) => "  ",
                    });
                }
                if !self.out.is_empty() {
                    self.out.push('\n');
                }
                self.out.push_str(&prefix);
                self.out.push_str(&marker);
                self.gap = false;
            }
            Event::End(TagEnd::Item) if !self.line.is_empty() => {
                self.out.push_str(self.line.trim_end());
                self.line.clear();
            }
            Event::End(TagEnd::BlockQuote(_) | TagEnd::CodeBlock | TagEnd::List(_)) => {
                self.end_line();
                self.blocks.pop();
                self.gap = self.blocks.is_empty();
            }
            Event::Start(Tag::Link { dest_url, .. }) => {
                self.links.push((dest_url.to_string(), self.line.len()));
            }
            Event::End(TagEnd::Link) => {
                if let Some((url, at)) = self.links.pop() {
                    let text = self.line.get(at..).unwrap_or("").to_owned();
                    if text != url && !url.is_empty() {
                        self.line.push_str(&format!(" <{url}>"));
                    }
                }
            }
            Event::Text(t) => {
                if matches!(self.blocks.last(), Some(Block::Code)) {
                    // Code blocks keep their lines.
                    let mut lines = t.split('\n').peekable();
                    while let Some(l) = lines.next() {
                        self.line.push_str(l);
                        if lines.peek().is_some() {
                            self.end_code_line();
                        }
                    }
                } else {
                    self.line.push_str(&t);
                }
            }
            Event::Code(t) => {
                self.line.push('`');
                self.line.push_str(&t);
                self.line.push('`');
            }
            Event::Html(t) | Event::InlineHtml(t) => self.line.push_str(&t),
            Event::SoftBreak | Event::HardBreak => self.end_line(),
            Event::Rule => {
                self.block_start();
                self.line.push_str("───");
                self.end_line();
            }
            Event::Start(Tag::Strikethrough) | Event::End(TagEnd::Strikethrough) => {
                self.line.push_str("~~");
            }
            _ => {}
        }
    }

    /// Ends a code line even when it is empty (blank lines in code count).
    fn end_code_line(&mut self) {
        let line = format!("{}{}", self.prefix(), self.line);
        if !self.out.is_empty() {
            self.out.push('\n');
        }
        self.out.push_str(line.trim_end());
        self.line.clear();
    }

    fn finish(mut self) -> String {
        self.end_line();
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn emphasis_loses_its_markers_and_inline_code_keeps_its_backticks() {
        assert_eq!(
            plain("*so* **very** `cargo test` ~~no~~"),
            "so very `cargo test` ~~no~~"
        );
    }

    #[test]
    fn links_show_their_address_unless_it_is_the_text() {
        assert_eq!(
            plain("see [the docs](https://example.com/d) or https://b.org"),
            "see the docs <https://example.com/d> or https://b.org"
        );
        assert_eq!(plain("<https://x.org/>"), "https://x.org/");
    }

    #[test]
    fn code_blocks_and_quotes_are_marked_line_by_line() {
        assert_eq!(
            plain("look:\n\n```rust\nfn main() {\n\n    x();\n}\n```\n\n> said\n> twice"),
            "look:\n\n[rust]\n│ fn main() {\n│\n│     x();\n│ }\n\n> said\n> twice"
        );
    }

    #[test]
    fn lists_get_bullets_or_numbers() {
        assert_eq!(plain("- one\n- two"), "• one\n• two");
        assert_eq!(plain("3. c\n4. d"), "3. c\n4. d");
    }

    #[test]
    fn line_breaks_stay_and_html_is_text() {
        assert_eq!(plain("a\nb"), "a\nb");
        assert_eq!(plain("<b>x</b> & y"), "<b>x</b> & y");
    }
}
