// The conversation parts of a message row: the quote of the message a reply
// answers, the reaction chips, the link preview card, and who its text
// mentions. Each is built from the message alone; the list calls them when
// it (re)fills a row.

import type { LinkPreview, MessageView, ReplyView, RoomView } from "../types";
import { senderName } from "../logic/rooms";
import type { ImageSource } from "./attachments";
import { h } from "./dom";
import type { MentionContext } from "./richtext";

/** The quoted message a reply answers; a click shows the original. */
export function replyQuote(p: ReplyView, me: string, room: RoomView | undefined, onJump: (messageId: string) => void): HTMLElement {
  const who = p.senderId === me ? "You" : senderName(room, p.senderId);
  const what = p.deletedAt !== null ? "Deleted message" : p.content || (p.type === "image" ? "Photo" : p.type === "file" ? "File" : "");
  return h(
    "button",
    {
      type: "button",
      class: "reply-quote" + (p.deletedAt !== null ? " gone" : ""),
      "aria-label": `Reply to ${who}: ${what}`,
      onclick: (e: MouseEvent) => {
        e.stopPropagation();
        onJump(p.messageId);
      },
    },
    h("span", { class: "reply-sender" }, who),
    " ",
    h("span", { class: "reply-text" }, what),
  );
}

/** Reaction chips: emoji and count, who reacted on hover; the user's own are marked; a click toggles. */
export function reactionChips(
  msg: MessageView,
  me: string,
  room: RoomView | undefined,
  onReact: (emoji: string, add: boolean) => void,
): HTMLElement {
  return h(
    "div",
    { class: "reactions", role: "group", "aria-label": "Reactions" },
    ...msg.reactions.map((r) => {
      const who = r.userIds.map((u) => (u === me ? "You" : senderName(room, u)));
      const more = r.count > who.length ? ` and ${r.count - who.length} more` : "";
      return h(
        "button",
        {
          type: "button",
          class: "chip" + (r.mine ? " mine" : "") + (r.pending ? " pending" : ""),
          "aria-pressed": r.mine ? "true" : "false",
          "aria-label": `${r.emoji} ${r.count}: ${who.join(", ")}${more}`,
          title: `${who.join(", ")}${more}`,
          onclick: (e: MouseEvent) => {
            e.stopPropagation();
            onReact(r.emoji, !r.mine);
          },
        },
        h("span", { class: "emoji" }, r.emoji),
        h("span", { class: "count" }, String(r.count)),
      );
    }),
  );
}

/**
 * What the server found at the message's first link: site, title, summary
 * and picture. It is a link: the list opens it (in the browser) on a click.
 */
export function linkCard(p: LinkPreview, images: ImageSource): HTMLElement {
  let host = p.url;
  try {
    host = new URL(p.url).host;
  } catch {
    // Shown as it came.
  }
  const site = p.siteName ?? host;
  // The name reads the card's text in its order (site, title, description).
  const label = [site, p.title, p.description].filter(Boolean).join(". ");
  const card = h(
    "a",
    { class: "link-card", href: p.url, rel: "noopener noreferrer", title: p.url, "aria-label": `Link preview: ${label}` },
    h(
      "span",
      { class: "lp-text" },
      h("span", { class: "lp-site" }, site),
      p.title ? " " : null,
      p.title ? h("span", { class: "lp-title" }, p.title) : null,
      p.description ? " " : null,
      p.description ? h("span", { class: "lp-desc" }, p.description) : null,
    ),
  );
  const image = p.image;
  if (image) {
    const img = h("img", { alt: "", decoding: "async", draggable: "false" });
    const thumb = h("span", { class: "lp-thumb" }, img);
    img.addEventListener("load", () => thumb.classList.add("loaded"));
    img.addEventListener("error", () => thumb.remove());
    card.appendChild(thumb);
    const known = images.peek(image.fileId, true);
    if (known !== undefined) img.src = known;
    else
      images.load(image.fileId, true).then(
        (url) => {
          img.src = url;
        },
        () => thumb.remove(),
      );
  }
  return card;
}

/** Who the message mentions, by lower-cased login name (undefined: nobody). */
export function mentionContext(msg: MessageView, room: RoomView | undefined, me: string): MentionContext | undefined {
  if (msg.mentions.length === 0 && !msg.mentionsRoom) return undefined;
  const names = new Map<string, string>();
  for (const id of msg.mentions) {
    const member = room?.members.find((x) => x.userId === id);
    if (member?.userName) names.set(member.userName.toLowerCase(), id);
  }
  return { names, room: msg.mentionsRoom, me };
}
