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
