// The message list of the open room. It renders incrementally: each message
// owns one row element, kept across updates and refilled only when what it
// shows changed, and rows are moved rather than rebuilt. It is also windowed:
// only the newest messages are in the DOM at first; scrolling up adds older
// rows a chunk at a time (asking for older history when memory runs out), and
// returning to the bottom trims the DOM back down. Thumbnails are fetched
// only when their row scrolls near the view. A room opens on its first
// unread message, under a "New messages" divider; scrolled up, a button
// counts the messages that arrived below and goes to the newest.

import type { Attachment, MessageView, RoomView } from "../types";
import { deliveryMark, type DeliveryMark } from "../logic/delivery";
import { initials, senderName } from "../logic/rooms";
import { avatarEl } from "./avatar";
import { dayLabel, needsDaySeparator, parseTime, timeOfDay } from "../logic/time";
import { describeAttachments, fileChip, fillThumb, showsAsImage, thumbButton, uploadBar, wantsThumbnail, type ImageSource } from "./attachments";
import { h } from "./dom";
import { icon } from "./icons";
import { linkCard, mentionContext, reactionChips, replyQuote } from "./messageparts";
import { renderText, safeUrl } from "./richtext";

/** Rows rendered when a room opens, and kept after a trim. */
const WINDOW = 120;
/** Rows added per step when scrolling up. */
const CHUNK = 60;
/** Above this many rows, reaching the bottom trims the window. */
const MAX_ROWS = 360;
/** How close to the top (px) counts as "reached the top". */
const TOP_SLACK = 240;
/** How close to the bottom (px) counts as "at the bottom". */
const BOTTOM_SLACK = 48;
/** Messages from one sender this close together form one run (no repeated name). */
const RUN_GAP_MS = 5 * 60_000;
/** How much of what was read shows above the "New messages" divider (px). */
const UNREAD_MARGIN = 48;
/** How far outside the view (px) a thumbnail starts loading. */
const THUMB_MARGIN = "600px 0px";

/** What the list needs to know besides the messages. */
export interface ListContext {
  myUserId: string;
  room: RoomView | undefined;
  /** Furthest read pointer of the other members (for ✓✓). */
  readSeq: number;
  /** Upload progress of pending messages, percent by tempId. */
  progress: ReadonlyMap<string, number>;
}

/** What the list asks of its owner. */
export interface ListHandlers {
  /** The top was reached and every message in memory is shown. */
  onNeedOlder(): void;
  /** The user scrolled to the newest message (time to mark read). */
  onAtBottom(): void;
  /** Open a message's menu beside `anchor` (at `at` for a right-click). */
  onMenu(msg: MessageView, anchor: HTMLElement, at?: { x: number; y: number }): void;
  /** Where thumbnails come from. */
  readonly images: ImageSource;
  /** Show a picture full size. */
  onOpenImage(att: Attachment): void;
  /** Save an attachment to the Downloads folder. */
  onSaveFile(att: Attachment): void;
  /** Open a link from a message (in the system browser, never this window). */
  onOpenLink?(url: string): void;
  /** Show the message a reply answers. */
  onJumpTo?(messageId: string): void;
  /** Toggle the user's reaction on a message. */
  onReact?(msg: MessageView, emoji: string, add: boolean): void;
  /** Show the profile of a message's sender (a click on their name). */
  onSender?(userId: string): void;
  /** Withdraw one of the user's messages that waits to be sent. */
  onCancelSend?(msg: MessageView): void;
}

/** Everything a row shows; a row is refilled only when this changes. */
interface RowModel {
  msg: MessageView;
  separator: string | null;
  sender: string | null;
  /** The sender's picture, shown by their name. */
  senderAvatar: string | null;
  run: boolean;
  own: boolean;
  mark: DeliveryMark | null;
  progress: number | null;
  time: string;
  menu: boolean;
  /** Pinned in its room. */
  pinned: boolean;
  /** The first message that was unread when the room opened. */
  unread: boolean;
}

interface Row {
  el: HTMLElement;
  model: RowModel | null;
}

const parsed = new WeakMap<MessageView, Date>();

function createdAt(m: MessageView): Date {
  let d = parsed.get(m);
  if (!d) {
    d = parseTime(m.createdAt) ?? new Date(0);
    parsed.set(m, d);
  }
  return d;
}

function sameModel(a: RowModel | null, b: RowModel): boolean {
  return (
    a !== null &&
    a.msg === b.msg &&
    a.separator === b.separator &&
    a.sender === b.sender &&
    a.senderAvatar === b.senderAvatar &&
    a.run === b.run &&
    a.mark?.state === b.mark?.state &&
    a.mark?.label === b.mark?.label &&
    a.progress === b.progress &&
    a.time === b.time &&
    a.menu === b.menu &&
    a.pinned === b.pinned &&
    a.unread === b.unread
  );
}

/**
 * The index of the first message unread when a room opens: the first with
 * a seq past the user's read pointer from someone else; -1 if none.
 */
function firstUnread(list: readonly MessageView[], ctx: ListContext): number {
  const read = ctx.room?.myReadSeq;
  if (read === undefined) return -1;
  return list.findIndex((m) => m.seq !== null && m.seq > read && m.senderId !== ctx.myUserId && m.type !== "system");
}

/**
 * How many messages from others `next` has that `prev` did not, newer than
 * anything in it (an older page is not "new"; the user's own unsent
 * messages, which sort last, do not hide what arrived before them).
 */
function arrivedAfter(prev: readonly MessageView[], next: readonly MessageView[], me: string): number {
  if (next.length <= prev.length) return 0;
  const known = new Set(prev.map((m) => m.localId));
  let newest = -Infinity;
  for (const m of prev) if (m.seq !== null && m.seq > newest) newest = m.seq;
  return next.filter((m) => !known.has(m.localId) && m.senderId !== me && m.seq !== null && m.seq > newest).length;
}

/** The scrolling message list of one room. */
export class MessageList {
  /** The scroll container (put it in the page). */
  readonly el: HTMLElement;
  private readonly top: HTMLElement;
  private readonly inner: HTMLElement;
  private list: readonly MessageView[] = [];
  private start = 0;
  private readonly rows = new Map<number, Row>();
  private ctx: ListContext = { myUserId: "", room: undefined, readSeq: 0, progress: new Map() };
  private hasOlder = false;
  private loadingOlder = false;
  private focusedId: number | null = null;
  private scrollQueued = false;
  /** Re-renders rows whose "sending in N s" counts down (0: none shown). */
  private tick = 0;
  /** The first message unread when the room opened (its divider stays until it is opened again). */
  private unreadId: number | null = null;
  /** Messages from others that arrived below the view while scrolled up. */
  private newBelow = 0;
  /** "N new messages" / "Jump to latest", shown while the newest is out of view. */
  private readonly jump: HTMLButtonElement;
  /**
   * Whether the view follows the newest message: set by where the user last
   * scrolled, so a change of height (the offline banner, the edit bar, a
   * picture that loaded) keeps the newest message in view.
   */
  private pinned = true;
  /** Watches thumbnails waiting for their picture (null: load at once). */
  private observer: IntersectionObserver | null | undefined;
  /** The attachment each thumbnail shows. */
  private readonly thumbs = new WeakMap<Element, Attachment>();

  constructor(private readonly handlers: ListHandlers) {
    this.top = h("div", { class: "list-top", "aria-live": "polite" });
    this.inner = h("div", { class: "rows", onkeydown: (e: KeyboardEvent) => this.onKey(e) });
    this.jump = h(
      "button",
      {
        type: "button",
        class: "jump-latest-btn",
        hidden: true,
        onclick: () => {
          this.scrollToEnd();
          this.updateJump();
          this.handlers.onAtBottom();
        },
      },
      "Jump to latest",
    ) as HTMLButtonElement;
    this.el = h(
      "div",
      {
        class: "messages",
        role: "log",
        "aria-label": "Messages",
        "aria-relevant": "additions",
        onscroll: () => {
          this.pinned = this.atBottom();
          if (this.pinned) this.newBelow = 0;
          this.updateJump();
          this.queueScroll();
        },
      },
      this.top,
      this.inner,
      this.jump,
    );
    // Whatever changes the list's height or its content's, a list that was
    // at the bottom stays there.
    if (typeof ResizeObserver === "function") {
      const follow = new ResizeObserver(() => {
        if (this.pinned) this.scrollToEnd();
      });
      follow.observe(this.el);
      follow.observe(this.inner);
    }
    // Links in messages never navigate this window.
    this.inner.addEventListener("click", (e) => {
      const a = (e.target as HTMLElement).closest<HTMLAnchorElement>("a[href]");
      if (!a) return;
      e.preventDefault();
      const url = safeUrl(a.getAttribute("href") ?? "");
      if (url) this.handlers.onOpenLink?.(url);
    });
    // Right-click on a message opens its menu where the pointer is.
    this.inner.addEventListener("contextmenu", (e) => {
      const rowEl = (e.target as HTMLElement).closest<HTMLElement>(".row");
      const model = rowEl ? this.rows.get(Number(rowEl.dataset.id))?.model : undefined;
      const btn = rowEl?.querySelector<HTMLElement>(".msg-menu-btn");
      if (!rowEl || !model?.menu || !btn) return;
      // A selection being copied keeps the system's menu.
      if (String(window.getSelection() ?? "") !== "") return;
      e.preventDefault();
      this.handlers.onMenu(model.msg, btn, { x: e.clientX, y: e.clientY });
    });
    this.inner.addEventListener("focusin", (e) => {
      const row = (e.target as HTMLElement).closest<HTMLElement>(".row");
      if (row?.dataset.id && Number(row.dataset.id) !== this.focusedId) {
        this.focusedId = Number(row.dataset.id);
        this.updateTabStop();
      }
    });
  }

  /** Shows a room from scratch: the newest rows, scrolled to the end. */
  reset(list: readonly MessageView[], ctx: ListContext, hasOlder: boolean): void {
    for (const row of this.rows.values()) {
      this.release(row.el);
      row.el.remove();
    }
    this.rows.clear();
    this.focusedId = null;
    this.ctx = ctx;
    this.hasOlder = hasOlder;
    this.loadingOlder = false;
    this.list = list;
    const first = firstUnread(list, ctx);
    this.unreadId = first >= 0 ? (list[first] as MessageView).localId : null;
    this.newBelow = first >= 0 ? list.slice(first).filter((m) => m.senderId !== ctx.myUserId).length : 0;
    // The newest window, or down from the first unread (at most MAX_ROWS).
    const newest = list.length - WINDOW;
    this.render(Math.max(0, first < 0 ? newest : Math.max(Math.min(newest, first - 10), list.length - MAX_ROWS)));
    this.updateTop();
    const row = this.unreadId !== null ? this.rows.get(this.unreadId) : undefined;
    if (first >= 0) {
      // The divider at the top of the view, a little of what was read above
      // it; so many unread that it is not rendered: the oldest rendered.
      this.el.scrollTop = row ? row.el.offsetTop - UNREAD_MARGIN : 0;
      this.pinned = this.atBottom();
      if (this.pinned) this.newBelow = 0;
    } else {
      this.scrollToEnd();
    }
    this.updateJump();
    // A list too short to scroll never reaches "the top" by scrolling.
    this.queueScroll();
  }

  /**
   * Shows a changed list (an upsert, a removal, an older page): touches only
   * rows whose content changed and keeps what the user is looking at in place
   * (or stays at the bottom if they were there).
   */
  update(list: readonly MessageView[], ctx: ListContext, opts: { toEnd?: boolean } = {}): void {
    const stick = opts.toEnd || this.pinned || this.atBottom();
    const anchor = stick ? null : this.captureAnchor();
    if (!stick) this.newBelow += arrivedAfter(this.list, list, ctx.myUserId);
    this.ctx = ctx;
    this.list = list;
    let start = this.firstRenderedIndex();
    if (stick && list.length - start > MAX_ROWS) start = list.length - WINDOW;
    this.render(start);
    // The first message of a new chat replaces "No messages yet".
    this.updateTop();
    if (stick) {
      this.scrollToEnd();
      this.newBelow = 0;
    } else if (anchor) this.restoreAnchor(anchor);
    this.updateJump();
  }

  /** Shows the jump button while the newest message is out of view, with what arrived below. */
  private updateJump(): void {
    const away = !this.pinned && !this.atBottom();
    const label = this.newBelow > 0 ? `${this.newBelow} new message${this.newBelow === 1 ? "" : "s"}` : "Jump to latest";
    if (this.jump.hidden === away) this.jump.hidden = !away;
    if (this.jump.textContent !== label) {
      this.jump.textContent = label;
      this.jump.setAttribute("aria-label", this.newBelow > 0 ? `${label}. Jump to the newest` : label);
    }
  }

  /** Marks whether older history may exist and whether it is being fetched. */
  setOlderState(hasOlder: boolean, loading: boolean): void {
    this.hasOlder = hasOlder;
    this.loadingOlder = loading;
    this.updateTop();
    // A short list that does not fill the view can never be scrolled to the top.
    if (!loading) this.queueScroll();
  }

  /** Whether the newest message is in view. */
  atBottom(): boolean {
    const el = this.el;
    return el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK;
  }

  /** Scrolls to a loaded message and marks it a moment; false when it is not loaded. */
  reveal(messageId: string): boolean {
    const i = this.list.findIndex((m) => m.messageId === messageId);
    if (i < 0) return false;
    // Loaded but above the rendered window: render down from it first.
    if (i < this.start) {
      this.render(Math.max(0, i - 10));
      this.updateTop();
    }
    const row = this.inner.querySelector<HTMLElement>(`.row[data-id="${this.list[i]?.localId}"]`);
    if (!row) return false;
    row.scrollIntoView({ block: "center" });
    row.classList.add("flash");
    setTimeout(() => row.classList.remove("flash"), 1500);
    row.focus();
    return true;
  }

  /** Scrolls to the newest message. */
  scrollToEnd(): void {
    this.pinned = true;
    this.el.scrollTop = this.el.scrollHeight;
  }

  /** Moves keyboard focus into the list (the last focused row, else the newest). */
  focus(): void {
    this.currentRow()?.focus();
  }

  /** How many rows are in the DOM (for tests and diagnostics). */
  get renderedCount(): number {
    return this.rows.size;
  }

  private firstRenderedIndex(): number {
    const first = this.inner.firstElementChild as HTMLElement | null;
    if (first?.dataset.id) {
      const id = Number(first.dataset.id);
      const idx = this.list.findIndex((m) => m.localId === id);
      if (idx >= 0) return idx;
      // It is gone: start at the next row that still exists.
      for (let el = first.nextElementSibling as HTMLElement | null; el; el = el.nextElementSibling as HTMLElement | null) {
        const next = this.list.findIndex((m) => m.localId === Number(el.dataset.id));
        if (next >= 0) return next;
      }
    }
    return Math.max(0, this.list.length - WINDOW);
  }

  /** Makes the DOM show exactly `list[start..]`, touching only what changed. */
  private render(start: number): void {
    this.start = Math.max(0, Math.min(start, this.list.length));
    const wanted = new Set<number>();
    for (let i = this.start; i < this.list.length; i++) wanted.add((this.list[i] as MessageView).localId);
    for (const [id, row] of this.rows) {
      if (!wanted.has(id)) {
        this.release(row.el);
        row.el.remove();
        this.rows.delete(id);
      }
    }
    let cursor = this.inner.firstChild;
    for (let i = this.start; i < this.list.length; i++) {
      const msg = this.list[i] as MessageView;
      const model = this.model(msg, i > 0 ? (this.list[i - 1] as MessageView) : null);
      let row = this.rows.get(msg.localId);
      if (!row) {
        row = { el: h("div", { class: "row", role: "article", tabindex: "-1", dataset: { id: msg.localId } }), model: null };
        this.rows.set(msg.localId, row);
      }
      if (!sameModel(row.model, model)) {
        this.fill(row.el, model);
        row.model = model;
      }
      if (row.el === cursor) cursor = cursor.nextSibling;
      else this.inner.insertBefore(row.el, cursor);
    }
    this.updateTabStop();
    this.countDown();
  }

  /** While a row says "sending in N s", redraws the rows each second. */
  private countDown(): void {
    if (this.tick !== 0) return;
    let waits = false;
    for (const row of this.rows.values()) if (row.model?.mark?.waiting) waits = true;
    if (!waits) return;
    this.tick = window.setTimeout(() => this.tickWaits(), 1000);
  }

  /**
   * Moves the "sending in N s" on, in place: the row, its Cancel button and
   * focus stay, and nothing is announced again. A send no longer waiting
   * has its row redrawn.
   */
  private tickWaits(): void {
    this.tick = 0;
    let redraw = false;
    for (const row of this.rows.values()) {
      const m = row.model;
      if (!m?.mark?.waiting) continue;
      const mark = deliveryMark(m.msg, this.ctx.myUserId, this.ctx.readSeq);
      if (!mark?.waiting) {
        redraw = true;
        continue;
      }
      if (mark.label === m.mark.label) continue;
      row.model = { ...m, mark };
      const text = row.el.querySelector(".wait-line > span");
      if (text) text.textContent = mark.label;
      const badge = row.el.querySelector(".mark");
      badge?.setAttribute("aria-label", mark.label);
      badge?.setAttribute("title", mark.label);
    }
    if (redraw) this.render(this.start);
    else this.countDown();
  }

  private model(msg: MessageView, prev: MessageView | null): RowModel {
    const { myUserId, room, readSeq, progress } = this.ctx;
    const at = createdAt(msg);
    const prevAt = prev ? createdAt(prev) : null;
    const separator = needsDaySeparator(prevAt, at) ? dayLabel(at, new Date()) : null;
    const own = msg.senderId === myUserId;
    const run =
      prev !== null &&
      separator === null &&
      prev.senderId === msg.senderId &&
      prev.type !== "system" &&
      msg.type !== "system" &&
      at.getTime() - (prevAt as Date).getTime() < RUN_GAP_MS;
    const sender = !own && !run && room?.type === "group" && msg.type !== "system" ? senderName(room, msg.senderId) : null;
    const senderAvatar = sender ? room?.members.find((x) => x.userId === msg.senderId)?.avatarUrl ?? null : null;
    return {
      msg,
      separator,
      sender,
      senderAvatar,
      run,
      own,
      mark: deliveryMark(msg, myUserId, readSeq),
      progress: msg.tempId !== null && msg.delivery === "pending" ? progress.get(msg.tempId) ?? null : null,
      time: timeOfDay(at),
      menu: msg.type !== "system" && msg.deletedAt === null,
      pinned: msg.messageId !== null && (room?.pinnedMessageIds ?? []).includes(msg.messageId),
      unread: msg.localId === this.unreadId,
    };
  }

  private fill(el: HTMLElement, m: RowModel): void {
    const { msg } = m;
    // The old thumbnails go; new ones are watched as they are made.
    this.release(el);
    const deleted = msg.deletedAt !== null;
    el.className = [
      "row",
      msg.type === "system" ? "system" : m.own ? "own" : "other",
      m.run ? "run" : "",
      deleted ? "deleted" : "",
      m.mark?.state === "failed" ? "failed" : "",
    ]
      .filter(Boolean)
      .join(" ");
    const parts: Node[] = [];
    if (m.separator) {
      parts.push(h("div", { class: "day-sep", role: "separator", "aria-label": m.separator }, h("span", null, m.separator)));
    }
    if (m.unread) {
      parts.push(h("div", { class: "unread-sep", role: "separator", "aria-label": "New messages" }, h("span", null, "New messages")));
    }
    if (msg.type === "system") {
      parts.push(h("div", { class: "system-text" }, msg.content));
      el.replaceChildren(...parts);
      el.setAttribute("aria-label", msg.content);
      return;
    }
    if (m.sender) {
      parts.push(
        h(
          "button",
          // Out of the Tab order (the list moves focus between rows); the chat's
          // details reach the same profile from the keyboard.
          // Named by its text (the picture is hidden from assistive
          // technology), so voice control can say the name it shows.
          { type: "button", class: "sender", tabindex: "-1", onclick: () => this.handlers.onSender?.(msg.senderId) },
          avatarEl(initials(m.sender), m.senderAvatar, this.handlers.images, "avatar avatar-small"),
          m.sender,
          h("span", { class: "sr-only" }, "’s profile"),
        ),
      );
    }
    const body: (Node | string | null)[] = [];
    if (deleted) {
      body.push(h("div", { class: "text tombstone" }, "This message was deleted"));
    } else {
      for (const a of msg.attachments) body.push(this.attachment(a));
      const local = msg.attachments.some((a) => a.fileId === "");
      if (msg.delivery === "pending" && (local || m.progress !== null)) {
        body.push(uploadBar(m.progress, msg.attachments.map((a) => a.name).join(", ") || "file"));
      }
      if (msg.replyPreview) body.unshift(replyQuote(msg.replyPreview, this.ctx.myUserId, this.ctx.room, (id) => this.handlers.onJumpTo?.(id)));
      if (msg.content) body.push(h("div", { class: "text rich" }, renderText(msg.content, mentionContext(msg, this.ctx.room, this.ctx.myUserId))));
      if (msg.linkPreview) body.push(linkCard(msg.linkPreview, this.handlers.images));
    }
    const meta = h(
      "div",
      { class: "meta" },
      m.pinned ? h("span", { class: "pinned", title: "Pinned", "aria-label": "Pinned" }, "📌") : null,
      msg.editedAt !== null && !deleted ? h("span", { class: "edited" }, "edited") : null,
      h("time", { datetime: msg.createdAt }, m.time),
      m.mark ? h("span", { class: `mark mark-${m.mark.state}`, "aria-label": m.mark.label, title: m.mark.label }, m.mark.glyph) : null,
    );
    const media = !deleted && msg.attachments.some(showsAsImage);
    const bubble = h("div", { class: "bubble" + (media ? " media" : "") }, ...body, meta);
    const line = h("div", { class: "line" }, bubble);
    if (m.menu) {
      line.appendChild(
        h(
          "button",
          {
            class: "msg-menu-btn",
            type: "button",
            tabindex: "-1",
            "aria-label": "Message actions",
            "aria-haspopup": "menu",
            onclick: (e: MouseEvent) => {
              e.stopPropagation();
              this.handlers.onMenu(msg, e.currentTarget as HTMLElement);
            },
          },
          icon("more", 18),
        ),
      );
    }
    parts.push(line);
    if (!deleted && msg.reactions.length > 0) {
      parts.push(reactionChips(msg, this.ctx.myUserId, this.ctx.room, (emoji, add) => this.handlers.onReact?.(msg, emoji, add)));
    }
    if (m.mark?.state === "failed") parts.push(h("div", { class: "error-line" }, m.mark.label));
    if (m.mark?.waiting) {
      parts.push(
        h(
          "div",
          { class: "wait-line" },
          h("span", null, m.mark.label),
          h("button", { type: "button", class: "link", onclick: () => this.handlers.onCancelSend?.(msg) }, "Cancel sending"),
        ),
      );
    }
    el.replaceChildren(...parts);
    const who = m.own ? "You" : senderName(this.ctx.room, msg.senderId);
    const files = describeAttachments(msg.attachments);
    const text = deleted ? "This message was deleted" : [msg.content, files].filter(Boolean).join(". ");
    // A waiting send says why, not the seconds (they change every second).
    const state = m.mark?.waiting ? (m.mark.label.split(":")[0] as string) : m.mark?.label;
    el.setAttribute("aria-label", `${who}, ${m.time}: ${text}${state ? `. ${state}` : ""}`);
  }

  /** One attachment: a thumbnail for an uploaded picture, else a file chip. */
  private attachment(a: Attachment): HTMLElement {
    if (!showsAsImage(a)) return fileChip(a, a.fileId === "" ? null : () => this.handlers.onSaveFile(a));
    const btn = thumbButton(a, () => this.handlers.onOpenImage(a));
    this.thumbs.set(btn, a);
    const thumb = wantsThumbnail(a);
    const known = this.handlers.images.peek(a.fileId, thumb);
    if (known !== undefined) fillThumb(btn, known);
    else {
      const observer = this.thumbObserver();
      if (observer) observer.observe(btn);
      else this.loadThumb(btn);
    }
    return btn;
  }

  /** Fetches a thumbnail's picture. */
  private loadThumb(btn: HTMLElement): void {
    const a = this.thumbs.get(btn);
    if (!a) return;
    this.handlers.images.load(a.fileId, wantsThumbnail(a)).then(
      (url) => fillThumb(btn, url),
      () => fillThumb(btn, null),
    );
  }

  /** The observer that loads thumbnails as they near the view (null if there is none). */
  private thumbObserver(): IntersectionObserver | null {
    if (this.observer === undefined) {
      this.observer =
        typeof IntersectionObserver === "function"
          ? new IntersectionObserver(
              (entries, obs) => {
                for (const e of entries) {
                  if (!e.isIntersecting) continue;
                  obs.unobserve(e.target);
                  this.loadThumb(e.target as HTMLElement);
                }
              },
              { root: this.el, rootMargin: THUMB_MARGIN },
            )
          : null;
    }
    return this.observer;
  }

  /** Stops watching the thumbnails of a row that is refilled or removed. */
  private release(el: HTMLElement): void {
    if (!this.observer) return;
    for (const t of el.querySelectorAll(".thumb")) this.observer.unobserve(t);
  }

  private updateTop(): void {
    const text = this.loadingOlder
      ? this.list.length ? "Loading older messages…" : "Loading messages…"
      : this.list.length === 0
        ? "No messages yet. Say hello!"
        : !this.hasOlder && this.start === 0
          ? "This is the beginning of the conversation."
          : "";
    if (this.top.textContent !== text) this.top.textContent = text;
  }

  private queueScroll(): void {
    if (this.scrollQueued) return;
    this.scrollQueued = true;
    requestAnimationFrame(() => {
      this.scrollQueued = false;
      this.onScroll();
    });
  }

  private onScroll(): void {
    if (this.el.scrollTop <= TOP_SLACK) {
      if (this.start > 0) {
        const anchor = this.captureAnchor();
        this.render(this.start - CHUNK);
        if (anchor) this.restoreAnchor(anchor);
        this.updateTop();
      } else if (this.hasOlder && !this.loadingOlder && this.list.length > 0) {
        this.handlers.onNeedOlder();
      } else {
        this.updateTop();
      }
    }
    if (this.atBottom()) {
      if (this.rows.size > MAX_ROWS) {
        this.render(this.list.length - WINDOW);
        this.scrollToEnd();
        this.updateTop();
      }
      this.handlers.onAtBottom();
    }
  }

  /** The first row at least partly in view and how far it sits from the top. */
  private captureAnchor(): { el: HTMLElement; offset: number } | null {
    const top = this.el.scrollTop;
    for (let el = this.inner.firstElementChild as HTMLElement | null; el; el = el.nextElementSibling as HTMLElement | null) {
      if (el.offsetTop + el.offsetHeight > top) return { el, offset: el.offsetTop - top };
    }
    return null;
  }

  private restoreAnchor(anchor: { el: HTMLElement; offset: number }): void {
    if (anchor.el.isConnected) this.el.scrollTop = anchor.el.offsetTop - anchor.offset;
  }

  private currentRow(): HTMLElement | null {
    const focused = this.focusedId !== null ? this.rows.get(this.focusedId) : undefined;
    return focused?.el ?? (this.inner.lastElementChild as HTMLElement | null);
  }

  /** One row is the list's tab stop (roving tabindex); arrows move between rows. */
  private updateTabStop(): void {
    const current = this.currentRow();
    for (const el of this.inner.querySelectorAll<HTMLElement>('.row[tabindex="0"]')) {
      if (el !== current) el.tabIndex = -1;
    }
    // The current row's attachment buttons follow it in the Tab order.
    for (const el of this.inner.querySelectorAll<HTMLElement>('.att-btn[tabindex="0"]')) {
      if (el.closest(".row") !== current) el.tabIndex = -1;
    }
    if (current) {
      if (current.tabIndex !== 0) current.tabIndex = 0;
      for (const el of current.querySelectorAll<HTMLElement>(".att-btn")) el.tabIndex = 0;
    }
  }

  private onKey(e: KeyboardEvent): void {
    const row = (e.target as HTMLElement).closest<HTMLElement>(".row");
    if (!row) return;
    // Enter and Space on a button inside the row press that button.
    if (e.target !== row && (e.key === "Enter" || e.key === " ")) return;
    let next: Element | null = null;
    switch (e.key) {
      case "ArrowUp":
        next = row.previousElementSibling;
        if (!next) this.el.scrollTop = 0;
        break;
      case "ArrowDown":
        next = row.nextElementSibling;
        break;
      case "Home":
        next = this.inner.firstElementChild;
        break;
      case "End":
        next = this.inner.lastElementChild;
        break;
      case "Enter":
      case "ContextMenu":
      case "F10": {
        if (e.key === "F10" && !e.shiftKey) return;
        const btn = row.querySelector<HTMLElement>(".msg-menu-btn");
        const msg = this.rows.get(Number(row.dataset.id))?.model?.msg;
        if (btn && msg) {
          e.preventDefault();
          this.handlers.onMenu(msg, btn);
        }
        return;
      }
      default:
        return;
    }
    e.preventDefault();
    if (next instanceof HTMLElement) {
      this.focusedId = Number(next.dataset.id);
      this.updateTabStop();
      next.focus();
      next.scrollIntoView({ block: "nearest" });
    }
  }
}
