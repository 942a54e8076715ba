// The signed-in app's DOM: connection banner, side pane with the room list,
// and the chat pane, drawn from the store. What a change touched (the
// store's `Changes`) marks parts dirty, and they are redrawn at most once per
// animation frame, so a burst of events (a catch-up after reconnecting)
// costs one render.

import type { MessageView, RoomView } from "../types";
import { UnreadBadge } from "../logic/attention";
import { connectionBanner } from "../logic/connection";
import { othersReadSeq } from "../logic/delivery";
import { isQuiet, notifySummary } from "../logic/notify";
import { messageSummary, roomHeader, roomTitle, sortRooms } from "../logic/rooms";
import { typingLabel } from "../logic/typing";
import type { Changes, ChatStore } from "../state/store";
import { ChatView, type PinHandlers } from "./chatview";
import type { ComposerHandlers } from "./composer";
import { h, setText, show } from "./dom";
import type { ListContext, ListHandlers } from "./messagelist";
import { RoomList } from "./roomlist";
import { SearchResults, type ResultsModel } from "./searchresults";
import { setSearchScope, sidebar, type SidebarActions } from "./sidebar";

/** Who is signed in. */
export interface Me {
  userId: string;
  userName: string;
  server: string;
}

/** What the views ask of the app. */
export interface ViewHandlers extends ListHandlers, ComposerHandlers, PinHandlers, Omit<SidebarActions, "onFilter"> {
  /** A message search result was picked. */
  onOpenResult(msg: MessageView): void;
  /** The next page of message results. */
  onMoreResults(): void;
  /** "Jump to latest" from the history around a found message. */
  onLeaveContext(): void;
  /** What a pinned message that is not loaded says (null: not on this device; undefined: being looked up). */
  pinnedText(roomId: string, messageId: string): string | null | undefined;
  /** A room in the list was picked. */
  onOpenRoom(roomId: string): void;
  /** The back button (narrow screens). */
  onBack(): void;
}

/** The views of the signed-in app. */
export class AppView {
  /** The app's root element. */
  readonly el: HTMLElement;
  /** The chat pane (header, messages, typing line, composer). */
  readonly chat: ChatView;
  private readonly roomList: RoomList;
  private readonly results: SearchResults;
  private resultsModel: ResultsModel | null = null;
  private readonly banner: HTMLElement;
  /** The unread total on the window's title and badge. */
  private readonly badge: UnreadBadge;
  private activeId: string | null = null;
  private filter = "";
  /** The search is limited to one chat (Ctrl+F in it). */
  private scoped = false;
  private readonly side: HTMLElement;
  private frame = 0;
  private dirtyRooms = false;
  private dirtyList: { toEnd: boolean } | null = null;
  private dirtyHeader = false;

  constructor(
    private readonly store: ChatStore,
    me: Me,
    private readonly handlers: ViewHandlers,
    setUnread: (count: number) => Promise<void>,
  ) {
    this.roomList = new RoomList((id) => handlers.onOpenRoom(id), handlers.images);
    this.badge = new UnreadBadge(setUnread);
    this.chat = new ChatView(handlers);
    this.results = new SearchResults(
      (msg) => handlers.onOpenResult(msg),
      () => handlers.onMoreResults(),
    );
    this.banner = h("div", { class: "banner", role: "status", hidden: true });
    const side = sidebar(me.userName, me.server, this.roomList, this.results, {
      onNewChat: () => handlers.onNewChat(),
      onNewGroup: () => handlers.onNewGroup(),
      onDefaultNotifyMenu: (anchor) => handlers.onDefaultNotifyMenu(anchor),
      onJoinGroup: () => handlers.onJoinGroup(),
      onSettings: () => handlers.onSettings(),
      onFilter: (text) => {
        // Searching one chat's messages does not filter the chats.
        this.filter = this.scoped ? "" : text;
        this.scheduleRooms();
      },
      onSearch: (text) => handlers.onSearch(text),
      onClearScope: () => handlers.onClearScope(),
    });
    this.side = side;
    this.el = h("div", { class: "app", dataset: { pane: "list" } }, this.banner, h("div", { class: "panes" }, side, this.chat.el));
    this.chat.setOpen(false);
  }

  /** The open room (null: none). */
  get active(): string | null {
    return this.activeId;
  }

  /** Marks what a change touched for the next frame. */
  show(c: Changes): void {
    if (c.connection) this.renderBanner();
    if (c.roomList) this.scheduleRooms();
    const id = this.activeId;
    if (id === null) return;
    if (c.rooms.has(id)) {
      this.dirtyHeader = true;
      this.scheduleFrame();
    }
    const toEnd = c.lists.get(id);
    if (toEnd !== undefined) {
      this.scheduleList(toEnd);
      // A pinned message may have changed with them.
      this.refreshHeader();
    }
    if (c.typing.has(id)) this.renderTyping();
  }

  /** Shows message search results (null: hides them). */
  showResults(m: ResultsModel | null): void {
    this.resultsModel = m;
    if (!m) this.results.hide();
    else this.renderResults();
  }

  private renderResults(): void {
    const m = this.resultsModel;
    if (!m) return;
    const rooms = new Map(this.store.rooms().map((r) => [r.roomId, r]));
    this.results.render(m, rooms, this.store.myUserId, new Date());
  }

  /** Shows a room in the chat pane, with its draft in the composer. */
  open(roomId: string, draft: string): void {
    this.activeId = roomId;
    this.el.dataset.pane = "chat";
    this.chat.setOpen(true);
    this.chat.composer.setText(draft);
    this.renderHeader();
    this.renderTyping();
    this.scheduleRooms();
  }

  /** Puts the open room's messages in the list from scratch (an empty "loading" list until read). */
  resetList(): void {
    const id = this.activeId;
    if (!id) return;
    const msgs = this.store.messages(id);
    if (msgs) {
      this.chat.list.reset(msgs, this.listContext(), this.store.hasOlder(id));
    } else {
      this.chat.list.reset([], this.listContext(), false);
      this.chat.list.setOlderState(false, true);
    }
  }

  /** Shows the placeholder instead of a room. */
  close(): void {
    this.activeId = null;
    this.chat.setOpen(false);
    this.el.dataset.pane = "list";
    this.scheduleRooms();
    this.roomList.focus();
  }

  /** Shows the narrow screen's chat pane again (the open room was picked again). */
  showChatPane(): void {
    this.el.dataset.pane = "chat";
  }

  /** Redraws the open room's header (and pins) with the next frame. */
  refreshHeader(): void {
    this.dirtyHeader = true;
    this.scheduleFrame();
  }

  /** Moves focus to the room list. */
  focusRooms(): void {
    this.roomList.focus();
  }

  /** Limits the search box to one chat (its title), or lets it search everywhere (null). */
  setSearchScope(title: string | null): void {
    this.scoped = title !== null;
    if (this.scoped) this.filter = "";
    setSearchScope(this.side, title);
    this.scheduleRooms();
  }

  /** Puts the cursor in the search box (Ctrl/Cmd+F), its text selected; the list pane shows on a narrow window. */
  focusSearch(): void {
    const box = this.el.querySelector<HTMLInputElement>(".room-filter");
    if (!box) return;
    this.el.dataset.pane = "list";
    box.focus();
    box.select();
  }

  /** Redraws the open room's messages with the next frame (`toEnd`: scroll to the newest). */
  scheduleList(toEnd: boolean): void {
    this.dirtyList = { toEnd: toEnd || (this.dirtyList?.toEnd ?? false) };
    this.scheduleFrame();
  }

  /** Redraws whatever is dirty, now. */
  flush(): void {
    if (this.dirtyRooms) {
      this.dirtyRooms = false;
      this.renderRooms();
    }
    if (this.dirtyHeader) {
      this.dirtyHeader = false;
      this.renderHeader();
    }
    const list = this.dirtyList;
    if (list) {
      this.dirtyList = null;
      const id = this.activeId;
      const msgs = id ? this.store.messages(id) : undefined;
      if (msgs) this.chat.list.update(msgs, this.listContext(), list);
    }
  }

  /** Relative times ("5 min ago", "Today") move on with the clock. */
  tick(): void {
    this.renderRooms();
    this.renderResults();
    this.renderHeader();
    if (this.activeId) this.scheduleList(false);
  }

  /** Stops drawing (sign-out). */
  destroy(): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
  }

  /** What the message list needs besides the messages. */
  listContext(): ListContext {
    const room: RoomView | undefined = this.activeId ? this.store.room(this.activeId) : undefined;
    const me = this.store.myUserId;
    return {
      myUserId: me,
      room,
      readSeq: room ? othersReadSeq(room.members, me) : 0,
      progress: this.store.progress,
    };
  }

  private scheduleRooms(): void {
    this.dirtyRooms = true;
    this.scheduleFrame();
  }

  private scheduleFrame(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.flush();
    });
  }

  private renderRooms(): void {
    const me = this.store.myUserId;
    let rooms = sortRooms(this.store.rooms(), me);
    if (this.filter) rooms = rooms.filter((r) => roomTitle(r, me).toLowerCase().includes(this.filter));
    const typing = new Map<string, string>();
    for (const r of rooms) {
      const label = typingLabel(this.store.typingNames(r.roomId));
      if (label) typing.set(r.roomId, label);
    }
    this.roomList.render(rooms, me, this.activeId, new Date(), typing, this.filter !== "");
    void this.badge.set(this.store.unreadTotal());
  }

  private renderHeader(): void {
    const room = this.activeId ? this.store.room(this.activeId) : undefined;
    if (!room) return;
    const { title, subtitle, avatar, avatarUrl, online } = roomHeader(room, this.store.myUserId, new Date());
    this.chat.setHeader(title, subtitle, avatar, online, avatarUrl);
    const now = Date.now();
    this.chat.setNotify(notifySummary(room, now), isQuiet(room, now));
    const loaded = this.store.messages(room.roomId) ?? [];
    this.chat.setPins(
      room.pinnedMessageIds.map((id) => {
        const m = loaded.find((x) => x.messageId === id);
        const text = m ? messageSummary(m) : this.handlers.pinnedText(room.roomId, id);
        return { messageId: id, text: text === undefined ? "…" : text };
      }),
    );
  }

  private renderTyping(): void {
    this.chat.setTyping(this.activeId ? typingLabel(this.store.typingNames(this.activeId)) : "");
  }

  private renderBanner(): void {
    const state = this.store.connection;
    const b = state ? connectionBanner(state, this.store.wasOnline) : null;
    show(this.banner, b !== null);
    if (b) {
      setText(this.banner, b.text);
      this.banner.dataset.tone = b.tone;
    }
  }
}
