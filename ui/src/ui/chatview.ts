// The chat pane: header (back button on narrow screens, room name, presence
// or member count), the pinned-messages bar, the message list, the typing
// line and the composer; or a placeholder while no room is open. Files
// dragged over the open room light it up as a drop zone.

import { fillAvatar } from "./avatar";
import { Composer, type ComposerHandlers } from "./composer";
import { h, setText, show } from "./dom";
import { icon } from "./icons";
import { MessageList, type ListHandlers } from "./messagelist";
import { openMenu } from "./menu";

/** A pinned message as the bar shows it (`text` null: not on this device). */
export interface PinnedItem {
  messageId: string;
  text: string | null;
}

/** What the pinned bar and the header's buttons ask of their owner. */
export interface PinHandlers {
  /** Show a pinned message in the list. */
  onShowPinned(messageId: string): void;
  /** Open the room's notification settings beside `anchor`. */
  onNotifyMenu(anchor: HTMLElement): void;
  /** Open the room's details: a group's settings, or the other person's profile. */
  onDetails(): void;
}

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
  private readonly pinBar: HTMLElement;
  private readonly pinButton: HTMLButtonElement;
  private readonly pinAll: HTMLButtonElement;
  private pins: PinnedItem[] = [];
  private readonly notifyBtn: HTMLButtonElement;
  /** The pin the bar shows: a click shows it and moves on to the next older one. */
  private pinIndex = 0;

  private readonly contextBar: HTMLElement;

  constructor(
    private readonly handlers: ListHandlers & ComposerHandlers & PinHandlers & { onBack(): void; onLeaveContext(): void },
  ) {
    this.list = new MessageList(handlers);
    this.composer = new Composer(handlers);
    this.title = h("h2", { class: "chat-title", id: "chat-title" });
    this.subtitle = h("p", { class: "chat-subtitle", "aria-live": "polite" });
    this.avatar = h("span", { class: "avatar", "aria-hidden": "true" });
    this.typingLine = h("div", { class: "typing-line", "aria-live": "polite" });
    this.notifyBtn = h(
      "button",
      {
        type: "button",
        class: "icon notify-btn",
        "aria-haspopup": "menu",
        "aria-label": "Notifications",
        title: "Notifications",
        onclick: () => handlers.onNotifyMenu(this.notifyBtn),
      },
      icon("bell", 20),
    );
    const header = h(
      "header",
      { class: "chat-header" },
      h("button", { type: "button", class: "icon back", "aria-label": "Back to chats", onclick: () => handlers.onBack() }, icon("back", 24)),
      this.avatar,
      // A click on the name opens the details too (the button is the keyboard's way).
      h("div", { class: "chat-heading", onclick: () => handlers.onDetails() }, this.title, this.subtitle),
      this.notifyBtn,
      h("button", { type: "button", class: "icon", "aria-label": "Chat details", title: "Chat details", onclick: () => handlers.onDetails() }, icon("info", 20)),
    );
    this.pinButton = h("button", { type: "button", class: "pin-current", onclick: () => this.showPin() });
    this.pinAll = h("button", {
      type: "button",
      class: "link pin-all",
      "aria-haspopup": "menu",
      onclick: () => this.listPins(),
    });
    this.pinBar = h("div", { class: "pinned-bar", role: "region", "aria-label": "Pinned messages", hidden: true }, this.pinButton, this.pinAll);
    this.dropHint = h("div", { class: "drop-hint", "aria-hidden": "true" }, h("div", null, icon("attach", 32), h("p", null, "Drop files to send them")));
    this.contextBar = h(
      "div",
      { class: "context-bar", role: "status", hidden: true },
      h("span", null, "You are looking at earlier messages."),
      h("button", { type: "button", class: "link jump-latest", onclick: () => handlers.onLeaveContext() }, "Jump to latest"),
    );
    this.body = h(
      "section",
      { class: "chat-body", "aria-labelledby": "chat-title", hidden: true },
      header,
      this.pinBar,
      this.list.el,
      this.contextBar,
      this.typingLine,
      this.composer.el,
      this.dropHint,
    );
    this.placeholder = h("div", { class: "chat-empty" }, h("p", null, "Pick a chat, or start a new one."));
    // The page's main landmark: the open chat (the side pane is its navigation).
    this.el = h("main", { class: "chat" }, this.body, this.placeholder);
    // Escape that nothing inside took (a reply, an edit, the mention list)
    // goes back to the chat list where only one pane shows at a time.
    this.el.addEventListener("keydown", (e) => {
      if (e.key !== "Escape" || e.defaultPrevented || this.body.hidden || !onePane()) return;
      e.preventDefault();
      handlers.onBack();
    });
  }

  /** Shows the room pane (true) or the placeholder (false). */
  setOpen(open: boolean): void {
    show(this.body, open);
    show(this.placeholder, !open);
    this.composer.setEnabled(open);
  }

  /** Sets the header. `online` colours the avatar dot (null: no dot);
   * `avatarUrl` is the partner's picture, shown over the initials. */
  setHeader(title: string, subtitle: string, avatar: string, online: boolean | null, avatarUrl: string | null = null): void {
    setText(this.title, title);
    setText(this.subtitle, subtitle);
    const dot = online === null ? null : h("span", { class: "dot" + (online ? " online" : "") });
    fillAvatar(this.avatar, avatar, avatarUrl, this.handlers.images, dot);
  }

  /** Shows the room's notification settings on the header's bell. */
  setNotify(summary: string, quiet: boolean): void {
    const label = `Notifications: ${summary}`;
    if (this.notifyBtn.getAttribute("aria-label") === label) return;
    this.notifyBtn.setAttribute("aria-label", label);
    this.notifyBtn.title = label;
    this.notifyBtn.classList.toggle("quiet", quiet);
    this.notifyBtn.replaceChildren(icon(quiet ? "bellOff" : "bell", 20));
  }

  /** The room's pinned messages, newest pin first (an empty list hides the bar). */
  setPins(pins: PinnedItem[]): void {
    const same = pins.length === this.pins.length && pins.every((p, i) => p.messageId === this.pins[i]?.messageId && p.text === this.pins[i]?.text);
    if (same) return;
    const current = this.pins[this.pinIndex]?.messageId;
    this.pins = pins;
    this.pinIndex = Math.max(0, pins.findIndex((p) => p.messageId === current));
    this.renderPins();
  }

  private renderPins(): void {
    show(this.pinBar, this.pins.length > 0);
    const p = this.pins[this.pinIndex];
    if (!p) return;
    const n = this.pins.length;
    const which = n > 1 ? `Pinned ${this.pinIndex + 1} of ${n}` : "Pinned";
    const text = p.text ?? "A message from before this device's history";
    // A space between the parts keeps their words apart for assistive technology.
    this.pinButton.replaceChildren(h("span", { class: "pin-which" }, `📌 ${which}`), " ", h("span", { class: "pin-text" }, text));
    this.pinButton.setAttribute("aria-label", `${which}: ${text}. Show it`);
    setText(this.pinAll, n > 1 ? `All ${n}` : "");
    show(this.pinAll, n > 1);
    this.pinAll.setAttribute("aria-label", `All ${n} pinned messages`);
  }

  /** Shows the bar's pin, and moves the bar on to the next older one. */
  private showPin(): void {
    const p = this.pins[this.pinIndex];
    if (!p) return;
    this.handlers.onShowPinned(p.messageId);
    this.pinIndex = (this.pinIndex + 1) % this.pins.length;
    this.renderPins();
  }

  /** A menu of every pin. */
  private listPins(): void {
    openMenu(
      this.pinAll,
      this.pins.map((p, i) => ({
        label: (p.text ?? "Pinned message").slice(0, 80),
        run: () => {
          this.pinIndex = i;
          this.showPin();
        },
      })),
      "Pinned messages",
    );
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

  /** Shows the bar that leads back from the history around a found message. */
  setContextBar(on: boolean): void {
    show(this.contextBar, on);
  }

  /** Sets the "… is typing" line ("" hides it). */
  setTyping(text: string): void {
    setText(this.typingLine, text);
  }
}

/** Whether the window is narrow enough to show one pane at a time (styles.css). */
function onePane(): boolean {
  return typeof matchMedia === "function" && matchMedia("(max-width: 699.98px)").matches;
}
