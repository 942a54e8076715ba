// The signed-in app: puts the client core's events into the store and hands
// what they touched to the views; opens and closes rooms; reads pages of
// messages (a room's first page when it opens, older ones when scrolling up,
// the newest again after a catch-up); moves the read pointer; and runs the
// dialogs and sign-out. What the UI knows lives in `state/store.ts`, the DOM
// in `appview.ts` (and the views it holds), the user's actions on messages
// in `outgoing.ts`.

import type { Api } from "../tauri";
import { errorMessage } from "../tauri";
import type { ClientEvent, ConnectionState, MessageView } from "../types";
import { PendingOpen } from "../logic/attention";
import { lastEditable } from "../logic/composer";
import { parseMessageLink } from "../logic/links";
import { mentionChoices } from "../logic/mentions";
import { newestSeq, oldestSeq } from "../logic/messages";
import { messageSummary, roomTitle } from "../logic/rooms";
import { parseQuery, type SearchQuery } from "../logic/search";
import { ChatStore, type Changes } from "../state/store";
import { FileUrls } from "./attachments";
import { AppView, type Me } from "./appview";
import { parseInvite } from "../logic/community";
import { directPartner } from "../logic/rooms";
import { confirmDialog, joinDialog, newChatDialog, newGroupDialog } from "./dialogs";
import { groupSettingsDialog, profileDialog, type PeopleContext } from "./groupsettings";
import { settingsDialog } from "./settings";
import { openDefaultNotifyMenu, openRoomNotifyMenu } from "./notifymenu";
import { Outgoing } from "./outgoing";
import type { ResultsModel } from "./searchresults";
import { toast } from "./toast";
import { openImageViewer } from "./viewer";
import { IS_MAC, neighbourRoom, shortcutOf } from "../logic/keys";
import { Drafts, draftsKey } from "../logic/drafts";
import { quickSwitcher, shortcutsDialog } from "./switcher";

export type { Me } from "./appview";

/** Messages read from the store per page. */
const PAGE = 50;
/** After a failed history fetch, wait this long before trying again. */
const OLDER_RETRY_MS = 5_000;
/** How often relative times ("5 min ago") are refreshed. */
const CLOCK_MS = 30_000;
/** How often the room list is read at most while events keep outrunning the read. */
const ROOM_READS = 5;
/** Search once typing pauses this long (the server limits searches per minute). */
const SEARCH_PAUSE_MS = 300;
/** Message results per page. */
const SEARCH_PAGE = 20;
/** Messages shown on each side of a found message opened in its chat. */
const CONTEXT_AROUND = 25;

/** The signed-in app. */
export class App {
  /** The app's root element. */
  readonly el: HTMLElement;
  private readonly store: ChatStore;
  private readonly view: AppView;
  private readonly out: Outgoing;
  /** Pictures' URLs (thumbnails and full size), fetched once. */
  private readonly images: FileUrls;
  /** Unsent text per room (the open room's is in the composer). */
  /** Unsent text per room, kept across restarts. */
  private readonly drafts: Drafts;
  private readonly onPageHide = (): void => this.drafts.flush();
  /** The read pointer last sent per room (not sent twice). */
  private readonly markedSeq = new Map<string, number>();
  /** What pinned messages that are not loaded say, by id (null: not on this device). */
  private readonly pinTexts = new Map<string, string | null>();
  private readonly olderBlockedUntil = new Map<string, number>();
  /** The older page being read, if any (one at a time; a second caller waits for it). */
  private olderRun: Promise<void> | null = null;
  /** A room a clicked notification asked for before the list knew it. */
  private readonly pendingOpen = new PendingOpen();
  private unlistenDrag: (() => void) | null = null;
  private destroyed = false;
  private readonly timers: number[] = [];
  private typingTimer = 0;
  private markTimer = 0;
  private searchTimer = 0;
  /** Counts searches, so an answer to an older one is dropped. */
  private searchRun = 0;
  /** Counts openings of (and returns from) found messages' history, likewise. */
  private contextRun = 0;
  /** The chat a message search is limited to (Ctrl+F in it), or null for every chat. */
  private searchScope: string | null = null;
  /** The message search on screen. */
  private results: { text: string; query: SearchQuery; page: ResultsModel; cursor: string | null } | null = null;
  private readonly onFocus = (): void => this.scheduleMarkRead();
  /** The app-wide shortcuts (logic/keys.ts); the browser's own keys are handled in main.ts. */
  private readonly onKeyDown = (e: KeyboardEvent): void => {
    const s = shortcutOf(e, IS_MAC);
    if (!s || s === "blocked" || e.defaultPrevented) return;
    // A dialog is up: its keys are its own.
    if (document.querySelector("dialog[open]")) return;
    e.preventDefault();
    switch (s) {
      case "switcher":
        void this.switcher();
        break;
      case "search":
        // In a chat, its messages; the chip in the box goes back to everywhere.
        this.setSearchScope(this.view.active);
        this.view.focusSearch();
        break;
      case "prev-room":
      case "next-room": {
        const next = neighbourRoom(this.store.rooms(), this.me.userId, this.view.active, s === "next-room" ? 1 : -1);
        if (next) void this.openRoom(next);
        break;
      }
      case "help":
        void shortcutsDialog(IS_MAC);
        break;
    }
  };
  /** Open screens that follow changes (a group's settings follows its room). */
  private readonly watchers = new Set<(c: Changes) => void>();

  constructor(
    private readonly api: Api,
    private readonly me: Me,
    private readonly onSignedOut: (notice?: string) => void,
  ) {
    this.store = new ChatStore(me.userId);
    this.drafts = new Drafts(draftsKey(me.server, me.userId));
    this.images = new FileUrls((fileId, thumbnail) => api.fileUrl(fileId, thumbnail));
    this.view = new AppView(
      this.store,
      me,
      {
        images: this.images,
        onOpenImage: (att) => openImageViewer(att, this.images, (a) => this.out.saveFile(a)),
        onSaveFile: (att) => void this.out.saveFile(att),
        onAttach: () => void this.out.attach(),
        onPasteImages: (files) => void this.out.pasteImages(files),
        onPasteClipboard: () => void this.out.pasteClipboard(),
        onNeedOlder: () => void this.loadOlder(),
        onAtBottom: () => this.scheduleMarkRead(),
        onMenu: (msg, anchor, at) => this.out.menu(msg, anchor, at),
        onSend: (text, replyTo) => {
          // What is sent shows at the end of the chat: go there.
          if (this.view.active && this.store.inContext(this.view.active)) void this.leaveContext();
          void this.out.send(text, replyTo);
        },
        onReact: (msg, emoji, add) => void this.out.react(msg, emoji, add),
        onCancelSend: (msg) => void this.out.cancelSend(msg),
        onOpenLink: (url) => {
          const link = parseMessageLink(url);
          if (!link && url.trim().toLowerCase().startsWith("leetchat://join") && parseInvite(url)) void this.joinGroup(url);
          else if (!link) void this.out.openLink(url);
          else if (this.store.room(link.roomId)) void this.jumpTo(link.messageId, link.roomId);
          else toast("That message is in a chat you are not in.");
        },
        onJumpTo: (messageId) => void this.jumpTo(messageId),
        onSender: (userId) => {
          const room = this.view.active ? this.store.room(this.view.active) : undefined;
          void profileDialog(this.people, userId, room?.members.find((m) => m.userId === userId));
        },
        onShowPinned: (messageId) => void this.jumpTo(messageId),
        onNotifyMenu: (anchor) => {
          const room = this.view.active ? this.store.room(this.view.active) : undefined;
          if (room) openRoomNotifyMenu(anchor, room, this.store.notifyDefault, this.api);
        },
        onDefaultNotifyMenu: (anchor) => openDefaultNotifyMenu(anchor, this.store.notifyDefault, this.api),
        pinnedText: (roomId, messageId) => this.pinnedText(roomId, messageId),
        mentionChoices: (prefix) => {
          const room = this.view.active ? this.store.room(this.view.active) : undefined;
          return room ? mentionChoices(prefix, room.members, me.userId, room.type === "group") : [];
        },
        onSaveEdit: (msg, text) => void this.out.edit(msg, text),
        lastEditable: () => {
          const id = this.view.active;
          return id ? lastEditable(this.store.messages(id) ?? [], me.userId) : null;
        },
        onTyping: (typing) => {
          const id = this.view.active;
          if (id) this.api.setTyping(id, typing).catch(() => undefined);
        },
        onDraft: (text) => {
          const id = this.view.active;
          if (id) this.drafts.set(id, text);
        },
        onBack: () => this.closeRoom(),
        onOpenRoom: (id) => void this.openRoom(id),
        onSearch: (text) => this.search(text),
        onClearScope: () => {
          this.setSearchScope(null);
          this.view.focusSearch();
        },
        onMoreResults: () => void this.moreResults(),
        onOpenResult: (msg) => void this.openResult(msg),
        onLeaveContext: () => void this.leaveContext(),
        onNewChat: () => void this.newRoom(newChatDialog),
        onNewGroup: () => void this.newRoom(newGroupDialog),
        onJoinGroup: () => void this.joinGroup(),
        onSettings: () => void this.settings(),
        onDetails: () => void this.details(),
      },
      (count) => api.setUnread(count),
    );
    this.out = new Outgoing(api, this.store, this.view, this.drafts);
    this.el = this.view.el;
  }

  /** Reads the rooms and starts listening to the clock and the window. */
  async start(connection: ConnectionState | null): Promise<void> {
    // A "signed_out" from before this sign-in is stale.
    if (connection && connection !== "signed_out") this.handle({ kind: "connection", state: connection });
    this.timers.push(window.setInterval(() => this.view.tick(), CLOCK_MS));
    window.addEventListener("focus", this.onFocus);
    document.addEventListener("visibilitychange", this.onFocus);
    document.addEventListener("keydown", this.onKeyDown);
    window.addEventListener("pagehide", this.onPageHide);
    this.api.onFileDrag((d) => this.out.onFileDrag(d)).then(
      (unlisten) => {
        if (this.destroyed) unlisten();
        else this.unlistenDrag = unlisten;
      },
      () => undefined,
    );
    await this.api.setActiveRoom(null).catch(() => undefined);
    this.api.notifyDefault().then(
      (level) => this.store.setNotifyDefault(level),
      () => undefined,
    );
    await this.reloadRooms();
    this.view.flush();
    this.view.focusRooms();
  }

  /** Stops timers and listeners (on sign-out). */
  destroy(): void {
    this.destroyed = true;
    // Signed out (maybe from another device): no screen of this account stays up.
    this.watchers.clear();
    for (const d of document.querySelectorAll<HTMLDialogElement>("dialog[open]")) d.close();
    this.unlistenDrag?.();
    this.unlistenDrag = null;
    for (const t of this.timers) clearInterval(t);
    clearInterval(this.typingTimer);
    clearTimeout(this.markTimer);
    clearTimeout(this.searchTimer);
    this.view.destroy();
    this.view.chat.composer.stopTyping();
    window.removeEventListener("focus", this.onFocus);
    document.removeEventListener("visibilitychange", this.onFocus);
    document.removeEventListener("keydown", this.onKeyDown);
    window.removeEventListener("pagehide", this.onPageHide);
    this.drafts.flush();
    // Signed out: no count of someone else's messages on the window.
    this.api.setUnread(0).catch(() => undefined);
  }

  /** Opens a room the shell asked for (a clicked notification). */
  showRoom(roomId: string): void {
    const now = this.pendingOpen.request(roomId, this.store.room(roomId) !== undefined, Date.now());
    if (now) void this.openRoom(now);
    // Not known yet: it opens when it arrives; a re-read makes sure it does.
    else void this.reloadRooms();
  }

  /** Applies one event from the client core. */
  handle(ev: ClientEvent): void {
    this.absorb(this.store.apply(ev, Date.now()));
    switch (ev.kind) {
      case "connection":
        if (ev.state === "signed_out") this.onSignedOut("Your session has ended. Please sign in again.");
        break;
      case "outbox_failed":
        // The message itself came as failed just before.
        toast(`Not sent: ${ev.reason}`);
        break;
      case "synced":
        void this.resync();
        break;
      default:
        break;
    }
  }

  /** Hands what a change touched to the views, and follows up on it. */
  private absorb(c: Changes): void {
    this.view.show(c);
    for (const w of this.watchers) w(c);
    const now = Date.now();
    for (const id of c.added) {
      const open = this.pendingOpen.arrived(id, now);
      if (open) queueMicrotask(() => void this.openRoom(open));
    }
    const active = this.view.active;
    if (active !== null && c.removed.includes(active)) this.closeRoom();
    else if (active !== null && c.messages.has(active)) this.scheduleMarkRead();
    if (c.typing.size > 0) this.watchTyping();
  }

  // ---- rooms -------------------------------------------------------------

  private async reloadRooms(): Promise<void> {
    try {
      // What events said while the list was read is newer than the read
      // (the store keeps it); an event about a room the read did not have
      // yet makes it stale: read again.
      for (let i = 1; ; i++) {
        const since = this.store.revision;
        const rooms = await this.api.rooms();
        const { changes, stale } = this.store.loadRooms(rooms, since);
        this.absorb(changes);
        if (!stale || i >= ROOM_READS) break;
      }
    } catch (err) {
      toast(`Could not read your chats: ${errorMessage(err)}`);
    }
  }

  private async openRoom(roomId: string): Promise<void> {
    if (!this.store.room(roomId)) return;
    this.view.showChatPane();
    if (roomId === this.view.active) {
      this.view.chat.composer.focus();
      return;
    }
    this.leaveActive();
    this.api.setActiveRoom(roomId).catch(() => undefined);
    this.view.open(roomId, this.drafts.get(roomId) ?? "");
    this.view.resetList();
    if (!this.store.messages(roomId)) await this.readFirstPage(roomId);
    if (this.view.active === roomId) {
      this.view.chat.composer.focus();
      this.scheduleMarkRead();
    }
  }

  private async readFirstPage(roomId: string): Promise<void> {
    const read = this.store.beginRead(roomId);
    try {
      const page = await this.api.messages(roomId, PAGE);
      const room = this.store.room(roomId);
      this.store.endRead(read, page, page.length < PAGE && room !== undefined && !room.hasOlder);
      if (this.view.active === roomId) this.view.resetList();
    } catch (err) {
      this.store.abortRead(read);
      toast(`Could not read messages: ${errorMessage(err)}`);
      if (this.view.active === roomId) this.view.chat.list.setOlderState(false, false);
    }
  }

  /** Stops typing in, and keeps the draft of, the open room. */
  private leaveActive(): void {
    const id = this.view.active;
    if (!id) return;
    // Opened again, a chat shows its newest messages.
    this.store.leaveContext(id);
    this.view.chat.setContextBar(false);
    this.view.chat.composer.stopTyping();
    this.drafts.set(id, this.view.chat.composer.text);
  }

  private closeRoom(): void {
    this.leaveActive();
    this.api.setActiveRoom(null).catch(() => undefined);
    this.view.close();
  }

  private async resync(): Promise<void> {
    // The catch-up may have changed anything: re-read the rooms and the open
    // room's newest page; other rooms' messages are dropped and re-read on open.
    await this.reloadRooms();
    const id = this.view.active;
    // Around a found message the list is not the newest page: back to it.
    if (id && this.store.inContext(id)) {
      await this.leaveContext();
      return;
    }
    this.store.dropMessagesExcept(id);
    // Its first page is being read: that read brings the newest.
    if (!id || (!this.store.messages(id) && this.store.reading(id))) return;
    const read = this.store.beginRead(id);
    try {
      this.absorb(this.store.endRead(read, await this.api.messages(id, PAGE)));
    } catch (err) {
      this.store.abortRead(read);
      toast(`Could not read messages: ${errorMessage(err)}`);
    }
  }

  /** Reads the open room's next older page (or waits for the one being read). */
  private loadOlder(): Promise<void> {
    this.olderRun ??= this.readOlder().finally(() => {
      this.olderRun = null;
    });
    return this.olderRun;
  }

  private async readOlder(): Promise<void> {
    const roomId = this.view.active;
    if (!roomId || !this.store.hasOlder(roomId)) return;
    if (this.store.inContext(roomId)) return this.readOlderContext(roomId);
    if ((this.olderBlockedUntil.get(roomId) ?? 0) > Date.now()) return;
    const before = oldestSeq(this.store.messages(roomId) ?? []);
    if (before === null) return;
    const list = this.view.chat.list;
    list.setOlderState(true, true);
    const read = this.store.beginRead(roomId);
    try {
      let page = await this.api.messages(roomId, PAGE, before);
      if (page.length === 0 && this.store.room(roomId)?.hasOlder !== false) {
        // The server's history comes in as events too (origin "history").
        const fetched = await this.api.loadOlder(roomId);
        if (fetched > 0) page = await this.api.messages(roomId, PAGE, before);
      }
      this.store.endRead(read, page, page.length === 0);
      const msgs = this.store.messages(roomId);
      if (this.view.active === roomId && msgs) list.update(msgs, this.view.listContext());
    } catch (err) {
      this.store.abortRead(read);
      this.olderBlockedUntil.set(roomId, Date.now() + OLDER_RETRY_MS);
      toast(`Could not load older messages: ${errorMessage(err)}`);
    } finally {
      if (this.view.active === roomId) list.setOlderState(this.store.hasOlder(roomId), false);
    }
  }

  // ---- message search ----------------------------------------------------

  /** Waits for a pause in typing, then searches (the server limits how often). */
  /** Limits message search to one chat (null: every chat), searching again what is typed. */
  private setSearchScope(roomId: string | null): void {
    const room = roomId ? this.store.room(roomId) : undefined;
    this.searchScope = room ? room.roomId : null;
    this.view.setSearchScope(room ? roomTitle(room, this.me.userId) : null);
    if (this.results) this.search(this.results.text);
  }

  private search(text: string): void {
    window.clearTimeout(this.searchTimer);
    const query = parseQuery(text);
    this.searchRun++;
    if (!query) {
      this.results = null;
      this.view.showResults(null);
      return;
    }
    this.results = { text, query, page: { query, results: [], fromServer: true, loading: true, more: false, error: null }, cursor: null };
    this.searchTimer = window.setTimeout(() => void this.readResults(false), SEARCH_PAUSE_MS);
  }

  private async moreResults(): Promise<void> {
    if (this.results?.cursor) await this.readResults(true);
  }

  /** Reads a page of results (`more`: the next one) and shows them. */
  private async readResults(more: boolean): Promise<void> {
    const r = this.results;
    if (!r) return;
    const run = this.searchRun;
    r.page = { ...r.page, loading: true, error: null };
    this.view.showResults(r.page);
    try {
      const page = await this.api.searchMessages(r.text, this.searchScope, more ? r.cursor : null, SEARCH_PAGE);
      if (run !== this.searchRun) return;
      const results = more ? [...r.page.results, ...page.results] : page.results;
      r.cursor = page.nextCursor;
      r.page = { query: r.query, results, fromServer: page.fromServer, loading: false, more: page.nextCursor !== null, error: null };
    } catch (err) {
      if (run !== this.searchRun) return;
      r.page = { ...r.page, loading: false, error: errorMessage(err) };
    }
    this.view.showResults(r.page);
  }

  /**
   * Opens a found message in its chat: within the history loaded here it is
   * scrolled to; otherwise the history around it is fetched and shown, with
   * a way back to the newest messages.
   */
  private async openResult(msg: MessageView): Promise<void> {
    const id = msg.messageId;
    if (!id) return this.openRoom(msg.roomId);
    // Another result of the chat on screen: from its newest messages again.
    if (this.view.active === msg.roomId && this.store.inContext(msg.roomId)) await this.leaveContext();
    await this.openRoom(msg.roomId);
    if (this.view.active !== msg.roomId) return;
    const run = ++this.contextRun;
    try {
      const ctx = await this.api.messageContext(id, CONTEXT_AROUND);
      if (this.view.active !== msg.roomId || run !== this.contextRun) return;
      // In the loaded history, or reaching it: the chat's own list gets there.
      if (!ctx.hasNewer || !ctx.messages.some((m) => m.island)) return this.jumpTo(id, msg.roomId);
      this.absorb(this.store.showContext(msg.roomId, ctx.messages, ctx.hasOlder));
      this.view.chat.setContextBar(true);
      this.view.resetList();
      this.view.chat.list.reveal(id);
    } catch (err) {
      toast(`Could not open the message: ${errorMessage(err)}`);
    }
  }

  /** More of the history around a found message, older than what it shows. */
  private async readOlderContext(roomId: string): Promise<void> {
    if ((this.olderBlockedUntil.get(roomId) ?? 0) > Date.now()) return;
    const oldest = (this.store.messages(roomId) ?? []).find((m) => m.messageId !== null);
    if (!oldest?.messageId) return;
    const list = this.view.chat.list;
    const run = this.contextRun;
    list.setOlderState(true, true);
    try {
      const ctx = await this.api.messageContext(oldest.messageId, CONTEXT_AROUND);
      // Another result opened meanwhile, or back to the newest.
      if (this.view.active !== roomId || !this.store.inContext(roomId) || run !== this.contextRun) return;
      this.absorb(this.store.showContext(roomId, ctx.messages, ctx.hasOlder, false));
    } catch (err) {
      this.olderBlockedUntil.set(roomId, Date.now() + OLDER_RETRY_MS);
      toast(`Could not load older messages: ${errorMessage(err)}`);
    } finally {
      if (this.view.active === roomId) list.setOlderState(this.store.hasOlder(roomId), false);
    }
  }

  /** Back from the history around a found message to the chat's newest messages. */
  private leaveContext(): Promise<void> {
    const id = this.view.active;
    this.view.chat.setContextBar(false);
    if (!id || !this.store.inContext(id)) return Promise.resolve();
    this.contextRun++;
    this.store.leaveContext(id);
    this.view.resetList();
    return this.readFirstPage(id);
  }

  /** A pinned message's summary from the core's store, looked up once. */
  private pinnedText(roomId: string, messageId: string): string | null | undefined {
    if (this.pinTexts.has(messageId)) return this.pinTexts.get(messageId);
    this.pinTexts.set(messageId, null);
    this.api.message(messageId).then(
      (m) => {
        this.pinTexts.set(messageId, m && m.roomId === roomId ? messageSummary(m) : null);
        this.view.refreshHeader();
      },
      () => undefined,
    );
    return undefined;
  }

  /** Most pages of older history read while looking for a message. */
  private static readonly JUMP_PAGES = 40;

  /**
   * Shows a message of the open room (a reply's original, a pin, a message
   * link): at once when it is loaded, else after reading older pages (from
   * the store, then the server) until it turns up.
   */
  async jumpTo(messageId: string, roomId: string | null = this.view.active): Promise<void> {
    if (!roomId) return;
    if (roomId !== this.view.active) await this.openRoom(roomId);
    const list = this.view.chat.list;
    for (let pages = 0; this.view.active === roomId; pages++) {
      if (list.reveal(messageId)) return;
      const known = (this.store.messages(roomId) ?? []).some((m) => m.messageId === messageId);
      if (known || !this.store.hasOlder(roomId) || pages >= App.JUMP_PAGES) break;
      if (pages === 0) toast("Looking for the message…");
      const before = (this.store.messages(roomId) ?? []).length;
      await this.loadOlder();
      if ((this.store.messages(roomId) ?? []).length === before && !this.store.hasOlder(roomId)) break;
    }
    if (this.view.active === roomId && !list.reveal(messageId)) toast("That message is no longer here (deleted, or from before you joined).");
  }

  private scheduleMarkRead(): void {
    clearTimeout(this.markTimer);
    this.markTimer = window.setTimeout(() => this.markRead(), 300);
  }

  /** Moves the read pointer when the open room's newest message is on screen. */
  private markRead(): void {
    const id = this.view.active;
    if (!id || document.hidden || !document.hasFocus() || !this.view.chat.list.atBottom()) return;
    const room = this.store.room(id);
    const seq = newestSeq(this.store.messages(id) ?? []);
    if (!room || seq === null || seq <= room.myReadSeq || seq <= (this.markedSeq.get(id) ?? 0)) return;
    this.markedSeq.set(id, seq);
    this.api.markRead(id, seq).catch(() => this.markedSeq.delete(id));
    this.absorb(this.store.readLocally(id, seq));
  }

  // ---- typing, dialogs, sign-out ----------------------------------------

  /** Runs the typists' expiry while anyone types. */
  private watchTyping(): void {
    if (!this.store.typingActive || this.typingTimer) return;
    this.typingTimer = window.setInterval(() => {
      this.absorb(this.store.expireTyping(Date.now()));
      if (!this.store.typingActive) {
        clearInterval(this.typingTimer);
        this.typingTimer = 0;
      }
    }, 1000);
  }

  /** The quick switcher (Ctrl/Cmd+K): the chat picked (or made with a person) opens. */
  private async switcher(): Promise<void> {
    const roomId = await quickSwitcher(this.api, this.store.rooms(), this.me.userId);
    if (roomId) this.showRoom(roomId);
  }

  /** New chat / New group: the room opens once the store has it (its event, or a re-read). */
  private async newRoom(dialog: typeof newChatDialog): Promise<void> {
    const room = await dialog(this.api, this.me.userId);
    if (room) this.showRoom(room.roomId);
  }

  /** "Join a group" (or a clicked invite link, `prefill`): the group opens once joined. */
  private async joinGroup(prefill = ""): Promise<void> {
    const room = await joinDialog(this.api, this.me.server, prefill);
    if (room) this.showRoom(room.roomId);
  }

  /** The settings screen. */
  private async settings(): Promise<void> {
    await settingsDialog({
      api: this.api,
      server: this.me.server,
      images: this.images,
      notifyDefault: this.store.notifyDefault,
      onDeleted: (notice) => {
        this.drafts.clear();
        this.onSignedOut(notice);
      },
      onSignOut: () => void this.signOut(),
    });
  }

  /** What the group and profile screens need. */
  private get people(): PeopleContext {
    return {
      api: this.api,
      myUserId: this.me.userId,
      server: this.me.server,
      images: this.images,
      room: (id) => this.store.room(id),
      openRoom: (id) => this.showRoom(id),
      watch: (roomId, changed) => {
        const w = (c: Changes): void => {
          if (c.rooms.has(roomId) || c.removed.includes(roomId)) changed();
        };
        this.watchers.add(w);
        return () => this.watchers.delete(w);
      },
    };
  }

  /** The open room's details: a group's settings, or the other person's profile. */
  private async details(): Promise<void> {
    const room = this.view.active ? this.store.room(this.view.active) : undefined;
    if (!room) return;
    if (room.type === "group") {
      await groupSettingsDialog(this.people, room.roomId);
      return;
    }
    const partner = directPartner(room, this.me.userId);
    if (partner) await profileDialog(this.people, partner.userId, partner);
  }

  private async signOut(): Promise<void> {
    if (!(await confirmDialog("Sign out?", `Sign out of ${this.me.server} on this device?`, "Sign out"))) return;
    try {
      await this.api.signOut();
      // Signed out of this device: what was typed here goes too.
      this.drafts.clear();
      this.onSignedOut();
    } catch (err) {
      toast(errorMessage(err));
    }
  }
}
