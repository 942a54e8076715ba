//! Message search as the UI shows it: the words of a query folded as the
//! client core and the server fold them (`leetchat_protocol::search`:
//! compatibility decomposition, accents dropped, lower case), so the words a
//! result was found by can be marked in its text.

/** Characters of scripts written without spaces: each is a word (as the server has it). */
const STANDS_ALONE = /[\u3041-\u309f\u30a1-\u30fa\u30fc-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[\u{20000}-\u{3ffff}]/u;
const WORD_CHAR = /[\p{L}\p{N}]/u;

/** A word folded for comparison: NFKD, accents dropped, recomposed, lower case, final sigma and sharp s folded. */
export function fold(word: string): string {
  return word
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .normalize("NFC")
    .toLowerCase()
    .replace(/ς/g, "σ")
    .replace(/ß/g, "ss");
}

/** A parsed query: words that must occur whole, and the last, which may start a word. */
export interface SearchQuery {
  whole: string[];
  prefix: string;
}

/** The words of a text, each with where it is in the text (UTF-16 offsets). */
export function wordSpans(text: string): { start: number; end: number; word: string }[] {
  const out: { start: number; end: number; word: string }[] = [];
  let start = -1;
  let i = 0;
  const close = (end: number): void => {
    if (start >= 0) out.push({ start, end, word: fold(text.slice(start, end)) });
    start = -1;
  };
  for (const ch of text) {
    const len = ch.length;
    if (STANDS_ALONE.test(ch)) {
      close(i);
      out.push({ start: i, end: i + len, word: ch });
    } else if (WORD_CHAR.test(ch) || /\p{M}/u.test(ch)) {
      if (start < 0) start = i;
    } else {
      close(i);
    }
    i += len;
  }
  close(i);
  return out;
}

/**
 * What a user typed, as words (null: nothing to search for, which the core
 * would refuse too).
 */
export function parseQuery(text: string): SearchQuery | null {
  const t = text.trim();
  if (t === "" || [...t].length > 200) return null;
  const words = wordSpans(t).map((w) => w.word);
  const prefix = words.pop();
  if (prefix === undefined) return null;
  return { whole: [...new Set(words)].filter((w) => w !== prefix), prefix };
}

/** The parts of `text` to mark for `query`: its words equal to a query word, or starting with the last. */
export function matchSpans(text: string, query: SearchQuery): { start: number; end: number }[] {
  return wordSpans(text)
    .filter((w) => query.whole.includes(w.word) || w.word.startsWith(query.prefix))
    .map(({ start, end }) => ({ start, end }));
}

/**
 * A result's text cut to about `max` characters around its first match (so
 * the match shows in a one-line row), with the parts to mark in the cut.
 */
export function snippet(
  text: string,
  query: SearchQuery,
  max = 90,
): { text: string; marks: { start: number; end: number }[] } {
  const flat = text.replace(/\s+/g, " ").trim();
  const spans = matchSpans(flat, query);
  const first = spans[0]?.start ?? 0;
  let from = 0;
  if (flat.length > max && first > max / 3) {
    from = first - Math.floor(max / 3);
    // Start at a word.
    const space = flat.indexOf(" ", from);
    if (space >= 0 && space < first) from = space + 1;
  }
  const to = Math.min(flat.length, from + max);
  const cut = flat.slice(from, to);
  const marks = spans
    .filter((s) => s.start >= from && s.end <= to)
    .map((s) => ({ start: s.start - from, end: s.end - from }));
  return { text: (from > 0 ? "…" : "") + cut + (to < flat.length ? "…" : ""), marks: from > 0 ? marks.map((m) => ({ start: m.start + 1, end: m.end + 1 })) : marks };
}
