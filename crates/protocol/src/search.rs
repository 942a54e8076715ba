//! The words of a text and of a search query (protocol 9.7).
//!
//! Search is language-neutral: a text's words are its runs of letters and
//! digits, folded so that case and accents do not matter (`Café` and `CAFE`
//! are both `cafe`, `ﬁ` is `fi`: Unicode compatibility decomposition with the
//! combining marks dropped, composed again, then lower case, with final sigma
//! and sharp s folded as full case folding does). Scripts written without spaces
//! (Chinese, Japanese kana) have no word boundaries to find, so each of their
//! characters is a word of its own and a query for `東京` finds texts with both
//! characters. The server's index (SQLite FTS5 or a PostgreSQL `tsvector`)
//! stores exactly these words, so both engines find the same messages, and a
//! client can tell locally whether a text matches a query ([`Query::matches`]).

use std::collections::HashSet;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Longest word kept, in characters; longer runs are cut to it (in the index
/// and in queries alike, so they still match).
pub const MAX_WORD_CHARS: usize = 64;
/// Longest query, in characters (protocol 9.7).
pub const MAX_QUERY_CHARS: usize = 200;

/// Characters of scripts written without spaces between words: each is a word.
fn stands_alone(c: char) -> bool {
    matches!(u32::from(c),
        0x3041..=0x309F      // Hiragana
        | 0x30A1..=0x30FA    // Katakana (not the double hyphen U+30A0)
        | 0x30FC..=0x30FF    // the prolonged sound mark, iteration marks (not the middle dot U+30FB)
        | 0x3400..=0x4DBF    // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0x20000..=0x3FFFF) // CJK Extensions B and later
}

/// The words of `text`, folded, in order, repeats included.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut chars = 0;
    let end = |word: &mut String, chars: &mut usize, out: &mut Vec<String>| {
        if !word.is_empty() {
            out.push(std::mem::take(word));
        }
        *chars = 0;
    };
    // Compatibility decomposition, accents dropped, then composed again
    // (Hangul syllables decompose into jamo, which are not accents).
    for c in text.nfkd().filter(|c| !is_combining_mark(*c)).nfc() {
        if stands_alone(c) {
            end(&mut word, &mut chars, &mut out);
            out.push(c.to_string());
        } else if c.is_alphanumeric() {
            for l in c.to_lowercase() {
                // What lower case leaves apart but case folding joins:
                // final sigma, and sharp s (STRASSE is straße).
                let folded = match l {
                    'ς' => "σ",
                    'ß' => "ss",
                    _ => "",
                };
                let mut push = |ch: char| {
                    if chars < MAX_WORD_CHARS {
                        word.push(ch);
                        chars += 1;
                    }
                };
                if folded.is_empty() {
                    push(l);
                } else {
                    folded.chars().for_each(push);
                }
            }
        } else {
            end(&mut word, &mut chars, &mut out);
        }
    }
    end(&mut word, &mut chars, &mut out);
    out
}

/// The distinct words of `texts`, in first-seen order: what an index stores
/// for a message (its text, and its attachments' names).
pub fn index_words<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for t in texts {
        for w in words(t) {
            if seen.insert(w.clone()) {
                out.push(w);
            }
        }
    }
    out
}

/// Why a query cannot be searched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryError {
    /// Empty, or only spaces.
    Empty,
    /// Over [`MAX_QUERY_CHARS`] characters.
    TooLong,
    /// No letters or digits at all (only punctuation or symbols).
    NoWords,
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            QueryError::Empty => "query must not be empty",
            QueryError::TooLong => "query must be at most 200 characters",
            QueryError::NoWords => "query has no letters or digits to search for",
        })
    }
}

impl std::error::Error for QueryError {}

/// A parsed query: every word must occur in a text, the last one also as the
/// start of a longer word (so results come while the user is still typing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Words that must occur as they are, distinct.
    pub whole: Vec<String>,
    /// The last word: it may also start a longer word.
    pub prefix: String,
}

impl Query {
    /// Parses what a user typed.
    pub fn parse(query: &str) -> Result<Query, QueryError> {
        if query.trim().is_empty() {
            return Err(QueryError::Empty);
        }
        if query.chars().count() > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong);
        }
        let mut all = words(query);
        let prefix = all.pop().ok_or(QueryError::NoWords)?;
        let mut seen = HashSet::new();
        all.retain(|w| *w != prefix && seen.insert(w.clone()));
        Ok(Query { whole: all, prefix })
    }

    /// The query in SQLite FTS5's syntax, for an index of [`index_words`]
    /// joined with spaces (tokenizer `ascii`): every word quoted (so none
    /// reads as an operator), the last one a prefix.
    pub fn fts5(&self) -> String {
        let mut terms: Vec<String> = self.whole.iter().map(|w| format!("\"{w}\"")).collect();
        terms.push(format!("\"{}\"*", self.prefix));
        terms.join(" AND ")
    }

    /// Whether a text with these (folded) words matches.
    pub fn matches(&self, words: &[String]) -> bool {
        self.whole.iter().all(|w| words.contains(w))
            && words.iter().any(|w| w.starts_with(self.prefix.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(text: &str) -> Vec<String> {
        words(text)
    }

    #[test]
    fn words_fold_case_and_accents() {
        assert_eq!(w("Café CAFE café"), ["cafe", "cafe", "cafe"]);
        assert_eq!(w("Ångström naïve résumé"), ["angstrom", "naive", "resume"]);
        assert_eq!(w("ﬁnal Ⅻ"), ["final", "xii"]);
        assert_eq!(w("Straße STRASSE"), ["strasse", "strasse"]);
        assert_eq!(w("ΟΔΟΣ οδός"), ["οδοσ", "οδοσ"]);
        assert_eq!(w("ПРИВЕТ мир"), ["привет", "мир"]);
    }

    #[test]
    fn punctuation_separates_words() {
        assert_eq!(
            w("hello, world! e-mail it@x.org 3.14"),
            ["hello", "world", "e", "mail", "it", "x", "org", "3", "14"]
        );
        assert!(w("!!! ... 🎉").is_empty());
        assert!(w("").is_empty());
    }

    #[test]
    fn scripts_without_spaces_split_per_character() {
        assert_eq!(w("東京タワー"), ["東", "京", "タ", "ワ", "ー"]);
        assert_eq!(w("abc東def"), ["abc", "東", "def"]);
        assert_eq!(w("안녕하세요 세계"), ["안녕하세요", "세계"]);
        // Punctuation of those scripts is no word.
        assert!(w("・゠").is_empty());
    }

    #[test]
    fn long_words_are_cut_the_same_way_everywhere() {
        let long = "a".repeat(200);
        let got = w(&long);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].chars().count(), MAX_WORD_CHARS);
        let q = Query::parse(&long).unwrap();
        assert!(q.matches(&index_words([long.as_str()])));
    }

    #[test]
    fn index_words_are_distinct() {
        assert_eq!(
            index_words(["the cat, the hat", "cat.png"]),
            ["the", "cat", "hat", "png"]
        );
    }

    #[test]
    fn queries_parse_and_refuse_nonsense() {
        assert_eq!(Query::parse(""), Err(QueryError::Empty));
        assert_eq!(Query::parse("   "), Err(QueryError::Empty));
        assert_eq!(Query::parse("?!"), Err(QueryError::NoWords));
        assert_eq!(Query::parse(&"x".repeat(201)), Err(QueryError::TooLong));
        assert!(Query::parse(&"x ".repeat(100)).is_ok());
        let q = Query::parse("Deploy the deploy Serv").unwrap();
        assert_eq!(q.whole, ["deploy", "the"]);
        assert_eq!(q.prefix, "serv");
        // The last word repeated earlier is only the prefix.
        let q = Query::parse("cat cat").unwrap();
        assert!(q.whole.is_empty());
        assert_eq!(q.prefix, "cat");
    }

    #[test]
    fn fts5_queries_quote_every_word() {
        let q = Query::parse("Deploy the SERV").unwrap();
        assert_eq!(q.fts5(), "\"deploy\" AND \"the\" AND \"serv\"*");
        assert_eq!(Query::parse("café").unwrap().fts5(), "\"cafe\"*");
    }

    #[test]
    fn matching_is_whole_words_and_a_last_prefix() {
        let text = index_words(["Deploying the server tonight"]);
        let yes = ["server", "SERV", "deploying serv", "the tonight", "tonig"];
        let no = ["deploy server", "serv the", "servers", "night"];
        for q in yes {
            assert!(Query::parse(q).unwrap().matches(&text), "{q}");
        }
        for q in no {
            assert!(!Query::parse(q).unwrap().matches(&text), "{q}");
        }
    }
}
