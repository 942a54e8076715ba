// The Markdown dialect of messages, in one place: a CommonMark subset read
// by markdown-it (no raw HTML, no images by URL, no tables, headings or
// rules; bare URLs, message and invite links become links; a single line break is
// a break). `ui/richtext.ts` renders it; `plainText` here reads it back as
// one line of text for previews (the room list, pins, notifications).

import MarkdownIt from "markdown-it";

/** Link schemes a message may carry. */
export const SAFE_LINK = /^(https?:\/\/|mailto:|leetchat:\/\/message\/|leetchat:\/\/join\?)/i;

/** `url` if it is an http(s), mailto, message or invite link, else null. */
export function safeUrl(url: string): string | null {
  const u = url.trim();
  return SAFE_LINK.test(u) ? u : null;
}

/** A parser for the messages' dialect; `highlight` colours code blocks. */
export function newMarkdown(highlight?: (code: string, lang: string) => string): MarkdownIt {
  const md = new MarkdownIt("default", { html: false, linkify: true, breaks: true, typographer: false, highlight });
  // Chat, not documents: no images by URL, tables, headings or rules.
  md.disable(["image", "table", "heading", "lheading", "hr"]);
  md.validateLink = (url: string): boolean => safeUrl(url) !== null;
  // Message links (`leetchat://message/...`) and invite links
  // (`leetchat://join?server=...&code=...`) written bare become links too.
  md.linkify.add("leetchat:", {
    validate: (text: string, pos: number): number => {
      const m = /^\/\/(message\/[^\s/]+\/[^\s/<>"']+|join\?[^\s<>"']+)/.exec(text.slice(pos));
      return m ? m[0].length : 0;
    },
  });
  return md;
}

const plain = newMarkdown();

/** A message's Markdown as one line of plain text: markers gone, code and link text kept. */
export function plainText(text: string): string {
  const out: string[] = [];
  for (const t of plain.parse(text, {})) {
    if (t.type === "inline") {
      for (const c of t.children ?? []) {
        if (c.type === "text" || c.type === "code_inline") out.push(c.content);
        else if (c.type === "softbreak" || c.type === "hardbreak") out.push(" ");
      }
      out.push(" ");
    } else if (t.type === "fence" || t.type === "code_block") {
      out.push(t.content, " ");
    }
  }
  return out.join("").replace(/\s+/g, " ").trim();
}
