// The chat pane: header (back button on narrow screens, room name, presence
// or member count), the message list, the typing line and the composer; or a
// placeholder while no room is open. Files dragged over the open room light it
// up as a drop zone.

import { Composer, type ComposerHandlers } from "./composer";
import { h, setText, show } from "./dom";
import { icon } from "./icons";
import { MessageList, type ListHandlers } from "./messagelist";

/** The chat pane. */
export class ChatView {
  /** The pane's element (put it in the page). */
  readonly el: HTMLElement;
  /** The open room's messages. */
  readonly list: MessageList;
  /** The composer. */
  readonly composer: Composer;
  private readonly title: HTMLElement;
  private readonly subtitle: HTMLElement;
  private readonly avatar: HTMLElement;
  private readonly typingLine: HTMLElement;
  private readonly body: HTMLElement;
  private readonly placeholder: HTMLElement;
  private readonly dropHint: HTMLElement;

  constructor(handlers: ListHandlers & ComposerHandlers & { onBack(): void }) {
    this.list = new MessageList(handlers);
    this.composer = new Composer(handlers);
    this.title = h("h2", { class: "chat-title", id: "chat-title" });
    this.subtitle = h("p", { class: "chat-subtitle", "aria-live": "polite" });
    this.avatar = h("span", { class: "avatar", "aria-hidden": "true" });
    this.typingLine = h("div", { class: "typing-line", "aria-live": "polite" });
    const header = h(
      "header",
      { class: "chat-header" },
      h("button", { type: "button", class: "icon back", "aria-label": "Back to chats", onclick: () => handlers.onBack() }, icon("back", 24)),
      this.avatar,
      h("div", { class: "chat-heading" }, this.title, this.subtitle),
    );
    this.dropHint = h("div", { class: "drop-hint", "aria-hidden": "true" }, h("div", null, icon("attach", 32), h("p", null, "Drop files to send them")));
    this.body = h(
      "section",
      { class: "chat-body", "aria-labelledby": "chat-title", hidden: true },
      header,
      this.list.el,
      this.typingLine,
      this.composer.el,
      this.dropHint,
    );
    this.placeholder = h("div", { class: "chat-empty" }, h("p", null, "Pick a chat, or start a new one."));
    this.el = h("div", { class: "chat" }, this.body, this.placeholder);
  }

  /** Shows the room pane (true) or the placeholder (false). */
  setOpen(open: boolean): void {
    show(this.body, open);
    show(this.placeholder, !open);
    this.composer.setEnabled(open);
  }

  /** Sets the header. `online` colours the avatar dot (null: no dot). */
  setHeader(title: string, subtitle: string, avatar: string, online: boolean | null): void {
    setText(this.title, title);
    setText(this.subtitle, subtitle);
    this.avatar.replaceChildren(avatar, online === null ? "" : h("span", { class: "dot" + (online ? " online" : "") }));
  }

  /** Whether a point (CSS px in the page) is over the open room, where files can be dropped. */
  isDropZone(x: number, y: number): boolean {
    if (this.body.hidden) return false;
    const el = document.elementFromPoint(x, y);
    // No element there (a position outside the page): count it as the room.
    return el === null || this.body.contains(el);
  }

  /** Highlights the room as a drop zone while files are dragged over it. */
  setDropTarget(on: boolean): void {
    this.body.classList.toggle("dropping", on);
  }

  /** Sets the "… is typing" line ("" hides it). */
  setTyping(text: string): void {
    setText(this.typingLine, text);
  }
}
