// Who a message mentions: `@userName` of a member (any case) and `@room`,
// `@everyone` or `@all` for the whole room, as the terminal client reads
// them. An `@word` naming nobody stays plain text; an e-mail address
// (`a@b.org`) is no mention.

import type { MemberView } from "../types";

const ROOM_WORDS = new Set(["room", "everyone", "all"]);

/** The `@words` of a text, in order. */
export function mentionedWords(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(^|[^\p{L}\p{N}_])@([\p{L}\p{N}_.-]*[\p{L}\p{N}_])/gu)) {
    out.push(m[2] ?? "");
  }
  return out;
}

/** The members `text` mentions (user ids, each once) and whether it mentions the room. */
export function mentionsIn(text: string, members: readonly MemberView[]): { mentions: string[]; mentionsRoom: boolean } {
  const mentions: string[] = [];
  let mentionsRoom = false;
  for (const word of mentionedWords(text)) {
    const w = word.toLowerCase();
    if (ROOM_WORDS.has(w)) {
      mentionsRoom = true;
      continue;
    }
    const m = members.find((x) => x.userName !== "" && x.userName.toLowerCase() === w);
    if (m && !mentions.includes(m.userId)) mentions.push(m.userId);
  }
  return { mentions, mentionsRoom };
}

/** The `@word` being typed at the caret: where it starts (the `@`) and what follows it. */
export interface MentionQuery {
  start: number;
  prefix: string;
}

/** What `@` completion should look for at `caret` in `text` (null: not in a mention). */
export function mentionQuery(text: string, caret: number): MentionQuery | null {
  const before = text.slice(0, caret);
  const m = /(^|[^\p{L}\p{N}_])@([\p{L}\p{N}_.-]*)$/u.exec(before);
  if (!m) return null;
  const prefix = m[2] ?? "";
  // A word already followed by more word characters is not being typed at its end.
  if (/^[\p{L}\p{N}_]/u.test(text.slice(caret))) return null;
  return { start: caret - prefix.length - 1, prefix };
}

/** One choice of `@` completion. */
export interface MentionChoice {
  /** What is inserted after the `@`. */
  word: string;
  /** Shown name. */
  label: string;
  /** The member (absent for `@room`). */
  userId?: string;
}

/** Most choices shown at once. */
export const MAX_MENTION_CHOICES = 8;

/**
 * The members (not the user) whose login or shown name starts with
 * `prefix` (any case), those whose login starts with it first, then
 * `@room` when it matches; at most {@link MAX_MENTION_CHOICES}.
 */
export function mentionChoices(prefix: string, members: readonly MemberView[], me: string, group: boolean): MentionChoice[] {
  const p = prefix.toLowerCase();
  const scored: { c: MentionChoice; rank: number }[] = [];
  for (const m of members) {
    if (m.userId === me || m.userName === "") continue;
    const login = m.userName.toLowerCase();
    const shown = m.displayName.toLowerCase();
    const rank = login.startsWith(p) ? 0 : shown.split(/\s+/).some((w) => w.startsWith(p)) ? 1 : -1;
    if (rank < 0) continue;
    scored.push({ c: { word: m.userName, label: m.displayName || m.userName, userId: m.userId }, rank });
  }
  scored.sort((a, b) => a.rank - b.rank || a.c.word.localeCompare(b.c.word));
  const out = scored.map((s) => s.c);
  if (group && "room".startsWith(p)) out.push({ word: "room", label: "Everyone in this room" });
  return out.slice(0, MAX_MENTION_CHOICES);
}

/** `text` with the `@word` at `q` replaced by `@choice ` and where the caret goes after it. */
export function completeMention(text: string, q: MentionQuery, choice: MentionChoice): { text: string; caret: number } {
  const end = q.start + 1 + q.prefix.length;
  const insert = `@${choice.word} `;
  const rest = text.slice(end).replace(/^ /, "");
  return { text: text.slice(0, q.start) + insert + rest, caret: q.start + insert.length };
}
