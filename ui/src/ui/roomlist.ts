// The list of rooms in the side pane: title, last-message preview, time,
// unread badge, and for direct rooms a presence dot and "last seen …". Rows
// are kept per room and refilled only when what they show changed; the arrow
// keys move between rooms.

import type { RoomView } from "../types";
import { directPartner, initials, lastActivity, roomPreview, roomTitle } from "../logic/rooms";
import { presenceLabel, shortWhen } from "../logic/time";
import { unreadBadge, unreadLabel } from "../logic/unread";
import { isMuted } from "../logic/notify";
import type { ImageSource } from "./attachments";
import { avatarEl } from "./avatar";
import { h } from "./dom";
import { icon } from "./icons";

/** What a row shows; the row is refilled only when this changes. */
interface RowModel {
  room: RoomView;
  active: boolean;
  title: string;
  preview: string;
  /** "Bob is typing…", shown instead of the preview. */
  typing: string;
  when: string;
  presence: string;
  online: boolean | null;
  /** A direct room's partner's picture. */
  avatarUrl: string | null;
  /** Muted, or set to notify of nothing: a crossed bell, a grey badge. */
  silenced: boolean;
}

function sameModel(a: RowModel | undefined, b: RowModel): boolean {
  return (
    a !== undefined &&
    a.room === b.room &&
    a.active === b.active &&
    a.silenced === b.silenced &&
    a.typing === b.typing &&
    a.when === b.when &&
    a.presence === b.presence &&
    a.online === b.online &&
    a.avatarUrl === b.avatarUrl
  );
}

/**
 * The parts that are there, one space between them: a flex container does
 * not show it, but it keeps their words apart in the row's name.
 */
function spaced(...parts: (Node | null)[]): Node[] {
  return parts.filter((p): p is Node => p !== null).flatMap((p, i) => (i === 0 ? [p] : [document.createTextNode(" "), p]));
}

/** The side pane's list of rooms. */
export class RoomList {
  /** The list element (put it in the page). */
  readonly el: HTMLElement;
  private readonly empty: HTMLElement;
  /** Each room's row: its item and button stay while the room is listed,
   * so a click that starts while the row is refilled still lands. */
  private readonly rows = new Map<string, { li: HTMLElement; button: HTMLButtonElement; model?: RowModel }>();

  constructor(
    private readonly onOpen: (roomId: string) => void,
    /** Where pictures come from (none: initials only). */
    private readonly images: ImageSource | null = null,
  ) {
    this.empty = h("p", { class: "muted empty-rooms" }, "No chats yet. Start one with “New chat”.");
    this.el = h("ul", { class: "room-list", "aria-label": "Conversations", onkeydown: (e: KeyboardEvent) => this.onKey(e) });
  }

  /** The element to show when there are no rooms (placed by the owner). */
  get emptyNotice(): HTMLElement {
    return this.empty;
  }

  /**
   * Shows `rooms` (already sorted and filtered), marking the open one; a
   * room where someone types shows that instead of its preview. Rows that
   * did not change are left alone. `filtered`: the rooms were filtered by a
   * search (an empty list then says no chat matched).
   */
  render(
    rooms: readonly RoomView[],
    myUserId: string,
    activeId: string | null,
    now: Date,
    typing: ReadonlyMap<string, string>,
    filtered = false,
  ): void {
    const keep = new Set(rooms.map((r) => r.roomId));
    for (const [id, row] of this.rows) {
      if (!keep.has(id)) {
        row.li.remove();
        this.rows.delete(id);
      }
    }
    let cursor = this.el.firstChild;
    for (const room of rooms) {
      const partner = directPartner(room, myUserId);
      const at = lastActivity(room);
      const model: RowModel = {
        room,
        active: room.roomId === activeId,
        title: roomTitle(room, myUserId),
        preview: roomPreview(room, myUserId),
        typing: typing.get(room.roomId) ?? "",
        when: at ? shortWhen(new Date(at), now) : "",
        presence: partner ? presenceLabel(partner.status, partner.lastSeen, now) : "",
        online: partner ? partner.status === "online" : null,
        avatarUrl: partner?.avatarUrl ?? null,
        silenced: isMuted(room, now.getTime()) || room.notifyLevel === "none",
      };
      let row = this.rows.get(room.roomId);
      if (!row) {
        const roomId = room.roomId;
        const button = h("button", { type: "button", class: "room", dataset: { roomId }, onclick: () => this.onOpen(roomId) }) as HTMLButtonElement;
        row = { li: h("li", { class: "room-item" }, button), button };
        this.rows.set(room.roomId, row);
      }
      if (!sameModel(row.model, model)) {
        this.fill(row.button, model);
        row.model = model;
      }
      if (row.li === cursor) cursor = cursor.nextSibling;
      else this.el.insertBefore(row.li, cursor);
    }
    this.empty.hidden = rooms.length > 0;
    this.empty.textContent = filtered ? "No chat has that name." : "No chats yet. Start one with “New chat”.";
  }

  /** Moves focus to the open room's row, else the first. */
  focus(): void {
    (this.el.querySelector<HTMLElement>('[aria-current="true"]') ?? this.el.querySelector<HTMLElement>("button"))?.focus();
  }

  private avatar(text: string, m: RowModel): HTMLElement {
    const dot = m.online === null ? null : h("span", { class: "dot" + (m.online ? " online" : "") });
    if (this.images) return avatarEl(text, m.avatarUrl, this.images, "avatar", dot);
    return h("span", { class: "avatar", "aria-hidden": "true" }, text, dot);
  }

  private fill(button: HTMLButtonElement, m: RowModel): void {
    const { room } = m;
    const badge = unreadBadge(room.unreadCount);
    const mentions = room.mentionCount > 0 ? `${room.mentionCount} ${room.mentionCount === 1 ? "mention" : "mentions"}` : "";
    const presence = m.presence && m.online === false ? m.presence : "";
    // The row's name is its text (so voice control can say what it sees):
    // the badges are drawn for the eye and said in words, hidden text that
    // also tells what only a glance shows (muted, online).
    const said = [m.silenced ? "muted" : "", m.online === true ? m.presence : "", unreadLabel(room.unreadCount), mentions].filter(Boolean);
    button.className = "room" + (m.active ? " active" : "") + (badge ? " unread" : "");
    if (m.active) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
    button.removeAttribute("aria-label");
    const top = h(
      "span",
      { class: "room-top" },
      ...spaced(
        h("span", { class: "room-title" }, m.title),
        m.silenced ? h("span", { class: "muted-icon", title: "Muted", "aria-hidden": "true" }, icon("bellOff", 14)) : null,
        h("span", { class: "room-when" }, m.when),
      ),
    );
    const bottom = h(
      "span",
      { class: "room-bottom" },
      ...spaced(
        h("span", { class: "room-preview" + (m.typing ? " typing" : "") }, m.typing || m.preview),
        room.mentionCount > 0
          ? h("span", { class: "badge mention-badge", title: `${room.mentionCount} unread ${room.mentionCount === 1 ? "mention" : "mentions"}`, "aria-hidden": "true" }, "@")
          : null,
        badge ? h("span", { class: "badge" + (m.silenced ? " quiet" : ""), "aria-hidden": "true" }, badge) : null,
      ),
    );
    button.replaceChildren(
      this.avatar(room.type === "group" ? "#" : initials(m.title), m),
      h(
        "span",
        { class: "room-text" },
        ...spaced(
          top,
          bottom,
          presence ? h("span", { class: "room-presence" }, presence) : null,
          said.length ? h("span", { class: "sr-only" }, `. ${said.join(". ")}`) : null,
        ),
      ),
    );
  }

  private onKey(e: KeyboardEvent): void {
    const buttons = [...this.el.querySelectorAll<HTMLButtonElement>("button.room")];
    const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (i < 0) return;
    let next: HTMLButtonElement | undefined;
    if (e.key === "ArrowDown") next = buttons[i + 1];
    else if (e.key === "ArrowUp") next = buttons[i - 1];
    else if (e.key === "Home") next = buttons[0];
    else if (e.key === "End") next = buttons[buttons.length - 1];
    else return;
    e.preventDefault();
    next?.focus();
  }
}
