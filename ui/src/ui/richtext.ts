// Message text as rich text: Markdown (a CommonMark subset) parsed by
// markdown-it, with raw HTML off, images by URL off, and only http, https
// and mailto links; bare URLs become links (linkify); code blocks are
// highlighted by highlight.js; the HTML is then passed through DOMPurify
// with an allow-list of the tags the subset produces, so nothing a sender
// writes can run or load anything. Mentions are marked on the resulting
// text nodes. Links never navigate the app window: the caller opens them in
// the system browser.

import DOMPurify from "dompurify";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import csharp from "highlight.js/lib/languages/csharp";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import dockerfile from "highlight.js/lib/languages/dockerfile";
import go from "highlight.js/lib/languages/go";
import ini from "highlight.js/lib/languages/ini";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import kotlin from "highlight.js/lib/languages/kotlin";
import markdown from "highlight.js/lib/languages/markdown";
import php from "highlight.js/lib/languages/php";
import python from "highlight.js/lib/languages/python";
import ruby from "highlight.js/lib/languages/ruby";
import rust from "highlight.js/lib/languages/rust";
import shell from "highlight.js/lib/languages/shell";
import sql from "highlight.js/lib/languages/sql";
import swift from "highlight.js/lib/languages/swift";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import { SAFE_LINK, newMarkdown, safeUrl } from "../logic/markdown";

// The languages people paste most (each with its usual aliases: js, ts,
// rs, py, sh, yml, html, toml...); registering only these keeps the app small.
for (const [name, lang] of Object.entries({ bash, c, cpp, csharp, css, diff, dockerfile, go, ini, java, javascript, json, kotlin, markdown, php, python, ruby, rust, shell, sql, swift, typescript, xml, yaml })) {
  hljs.registerLanguage(name, lang);
}

/** Longest code block that is highlighted (bigger ones are shown plain). */
const HIGHLIGHT_MAX_CHARS = 20_000;

/** Tags the subset renders; anything else is dropped by the sanitiser. */
const TAGS = ["p", "br", "em", "strong", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a", "span"];

const md = newMarkdown((code: string, lang: string): string => {
  if (!lang || code.length > HIGHLIGHT_MAX_CHARS || !hljs.getLanguage(lang)) return "";
  try {
    return hljs.highlight(code, { language: lang, ignoreIllegals: true }).value;
  } catch {
    return "";
  }
});

export { safeUrl };

/** Who a message can mention, to mark `@name` in its text. */
export interface MentionContext {
  /** userName (lower-cased) of each mentioned member, to their user id. */
  names: Map<string, string>;
  /** The message mentions the whole room (`@room`, `@everyone`, `@all`). */
  room: boolean;
  /** The reader's user id: a mention of them is marked `mention-me`. */
  me: string;
}

const ROOM_WORDS = new Set(["room", "everyone", "all"]);

/** The sanitised HTML of a message's Markdown. */
export function renderHtml(text: string): string {
  return DOMPurify.sanitize(md.render(text), {
    ALLOWED_TAGS: TAGS,
    ALLOWED_ATTR: ["href", "class"],
    ALLOWED_URI_REGEXP: SAFE_LINK,
  });
}

/** A message's text as rich-text nodes, with its mentions marked. */
export function renderText(text: string, mentions?: MentionContext): DocumentFragment {
  const tpl = document.createElement("template");
  tpl.innerHTML = renderHtml(text);
  for (const a of tpl.content.querySelectorAll("a")) {
    a.setAttribute("rel", "noopener noreferrer");
    a.classList.add("link");
  }
  if (mentions) markMentions(tpl.content, mentions);
  return tpl.content;
}

/** Wraps `@name` of a mentioned member (or `@room`) in a `.mention` span;
 * text inside code is left alone. */
function markMentions(root: DocumentFragment, ctx: MentionContext): void {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const texts: Text[] = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!(n.parentElement?.closest("code, a"))) texts.push(n as Text);
  }
  const pattern = /(^|[^\p{L}\p{N}_])@([\p{L}\p{N}_.-]*[\p{L}\p{N}_])/gu;
  for (const t of texts) {
    const value = t.data;
    const parts: (string | HTMLElement)[] = [];
    let last = 0;
    for (const m of value.matchAll(pattern)) {
      const word = (m[2] ?? "").toLowerCase();
      const userId = ctx.names.get(word);
      const isRoom = ctx.room && ROOM_WORDS.has(word);
      if (userId === undefined && !isRoom) continue;
      const start = (m.index ?? 0) + (m[1] ?? "").length;
      const end = start + 1 + (m[2] ?? "").length;
      parts.push(value.slice(last, start));
      const span = document.createElement("span");
      span.className = userId === ctx.me || isRoom ? "mention mention-me" : "mention";
      span.textContent = value.slice(start, end);
      parts.push(span);
      last = end;
    }
    if (parts.length === 0) continue;
    parts.push(value.slice(last));
    t.replaceWith(...parts);
  }
}
