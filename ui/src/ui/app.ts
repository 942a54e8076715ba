// The signed-in app: holds what the UI knows (rooms, the messages of rooms
// that were opened, presence, typing, the connection), applies the shell's
// events to it one item at a time, and tells the views what changed. Views
// are refreshed at most once per animation frame, so a burst of events (a
// catch-up after reconnecting) costs one render. Files reach a room through
// the attach button, a drop on the open room, or a pasted image.

import type { Api, FileDrag } from "../tauri";
import { errorMessage, isNoClipboardImage } from "../tauri";
import type { Attachment, ClientEvent, ConnectionState, MessageView, RoomView } from "../types";
import { PendingOpen, UnreadBadge, totalUnread } from "../logic/attention";
import { connectionBanner } from "../logic/connection";
import { lastEditable, outgoingText } from "../logic/composer";
import { othersReadSeq } from "../logic/delivery";
import { MAX_PASTE_BYTES, UploadTracker, baseName, formatSize, pastedName } from "../logic/files";
import {
  compareMessages,
  isStaleCopy,
  mergeMessages,
  messageKey,
  newestSeq,
  oldestSeq,
  removeMessage,
  upsertMessage,
} from "../logic/messages";
import { applyPresence, applyReceipt, roomHeader, roomTitle, sortRooms, typistName } from "../logic/rooms";
import { TypingTracker, typingLabel } from "../logic/typing";
import { FileUrls } from "./attachments";
import { ChatView } from "./chatview";
import { confirmDialog, newChatDialog, newGroupDialog } from "./dialogs";
import { h, setText, show } from "./dom";
import { openMenu } from "./menu";
import { RoomList } from "./roomlist";
import { sidebar } from "./sidebar";
import { toast } from "./toast";
import { openImageViewer } from "./viewer";

/** Messages read from the store per page. */
const PAGE = 50;
/** After a failed history fetch, wait this long before trying again. */
const OLDER_RETRY_MS = 5_000;
/** How often relative times ("5 min ago") are refreshed. */
const CLOCK_MS = 30_000;

/** Who is signed in. */
export interface Me {
  userId: string;
  userName: string;
  server: string;
}

/** The signed-in app. */
export class App {
  /** The app's root element. */
  readonly el: HTMLElement;
  private readonly rooms = new Map<string, RoomView>();
  /** Messages of rooms opened at least once, kept current by events. */
  private readonly messages = new Map<string, MessageView[]>();
  /** Events for rooms whose first page is being read, applied after it. */
  private readonly buffered = new Map<string, MessageView[]>();
  /** Rooms whose history is known to be complete. */
  private readonly noOlder = new Set<string>();
  private readonly olderBlockedUntil = new Map<string, number>();
  private olderLoading: string | null = null;
  private readonly presence = new Map<string, { status: string; lastSeen: string | null }>();
  /** Upload progress of pending file messages. */
  private readonly uploads = new UploadTracker();
  /** Pictures' URLs (thumbnails and full size), fetched once. */
  private readonly images: FileUrls;
  /** Files are being dragged over the window. */
  private dragging = false;
  private unlistenDrag: (() => void) | null = null;
  /** Room events handled so far (tells a slow `rooms()` read it is stale). */
  private roomChanges = 0;
  private destroyed = false;
  private readonly drafts = new Map<string, string>();
  private readonly markedSeq = new Map<string, number>();
  private readonly typing = new TypingTracker();
  /** The unread total on the window's title and badge. */
  private readonly badge: UnreadBadge;
  /** A room a clicked notification asked for before the list knew it. */
  private readonly pendingOpen = new PendingOpen();
  private activeId: string | null = null;
  private connection: ConnectionState | null = null;
  private wasOnline = false;
  private filter = "";

  private readonly roomList: RoomList;
  private readonly chat: ChatView;
  private readonly banner: HTMLElement;
  private frame = 0;
  private dirtyRooms = false;
  private dirtyList: { toEnd: boolean } | null = null;
  private dirtyHeader = false;
  private readonly timers: number[] = [];
  private typingTimer = 0;
  private markTimer = 0;
  private readonly onFocus = (): void => this.scheduleMarkRead();

  constructor(
    private readonly api: Api,
    private readonly me: Me,
    private readonly onSignedOut: (notice?: string) => void,
  ) {
    this.roomList = new RoomList((id) => void this.openRoom(id));
    this.badge = new UnreadBadge((count) => api.setUnread(count));
    this.images = new FileUrls((fileId, thumbnail) => api.fileUrl(fileId, thumbnail));
    this.chat = new ChatView({
      images: this.images,
      onOpenImage: (att) => openImageViewer(att, this.images, (a) => this.saveFile(a)),
      onSaveFile: (att) => void this.saveFile(att),
      onAttach: () => void this.attach(),
      onPasteImages: (files) => void this.pasteImages(files),
      onPasteClipboard: () => void this.pasteClipboard(),
      onNeedOlder: () => void this.loadOlder(),
      onAtBottom: () => this.scheduleMarkRead(),
      onMenu: (msg, anchor) => this.messageMenu(msg, anchor),
      onSend: (text) => void this.send(text),
      onSaveEdit: (msg, text) => void this.edit(msg, text),
      lastEditable: () => (this.activeId ? lastEditable(this.messages.get(this.activeId) ?? [], me.userId) : null),
      onTyping: (typing) => {
        if (this.activeId) this.api.setTyping(this.activeId, typing).catch(() => undefined);
      },
      onBack: () => this.closeRoom(),
    });
    this.banner = h("div", { class: "banner", role: "status", hidden: true });
    const side = sidebar(me.userName, me.server, this.roomList, {
      onNewChat: () => void this.newChat(),
      onNewGroup: () => void this.newGroup(),
      onSignOut: () => void this.signOut(),
      onFilter: (text) => {
        this.filter = text;
        this.scheduleRooms();
      },
    });
    this.el = h("div", { class: "app", dataset: { pane: "list" } }, this.banner, h("div", { class: "panes" }, side, this.chat.el));
    this.chat.setOpen(false);
  }

  /** Reads the rooms and starts listening to the clock and the window. */
  async start(connection: ConnectionState | null): Promise<void> {
    // A "signed_out" from before this sign-in is stale.
    if (connection && connection !== "signed_out") this.handle({ kind: "connection", state: connection });
    this.timers.push(window.setInterval(() => this.tick(), CLOCK_MS));
    window.addEventListener("focus", this.onFocus);
    document.addEventListener("visibilitychange", this.onFocus);
    this.api.onFileDrag((d) => this.onFileDrag(d)).then(
      (unlisten) => {
        if (this.destroyed) unlisten();
        else this.unlistenDrag = unlisten;
      },
      () => undefined,
    );
    await this.api.setActiveRoom(null).catch(() => undefined);
    await this.reloadRooms();
    this.flush();
    this.roomList.focus();
  }

  /** Stops timers and listeners (on sign-out). */
  destroy(): void {
    this.destroyed = true;
    this.unlistenDrag?.();
    this.unlistenDrag = null;
    this.uploads.clear();
    for (const t of this.timers) clearInterval(t);
    clearInterval(this.typingTimer);
    clearTimeout(this.markTimer);
    cancelAnimationFrame(this.frame);
    this.chat.composer.stopTyping();
    window.removeEventListener("focus", this.onFocus);
    document.removeEventListener("visibilitychange", this.onFocus);
    // Signed out: no count of someone else's messages on the window.
    this.api.setUnread(0).catch(() => undefined);
  }

  /** Opens a room the shell asked for (a clicked notification). */
  showRoom(roomId: string): void {
    const now = this.pendingOpen.request(roomId, this.rooms.has(roomId), Date.now());
    if (now) void this.openRoom(now);
    // Not known yet: it opens when it arrives; a re-read makes sure it does.
    else void this.reloadRooms();
  }

  /** Applies one event from the client core. */
  handle(ev: ClientEvent): void {
    switch (ev.kind) {
      case "connection":
        this.connection = ev.state;
        if (ev.state === "online") this.wasOnline = true;
        // Typists' "stopped" pushes are lost while disconnected.
        else for (const id of this.typing.clearAll()) this.typingChanged(id);
        this.renderBanner();
        if (ev.state === "signed_out") this.onSignedOut("Your session has ended. Please sign in again.");
        break;
      case "room_updated":
        this.roomChanges++;
        this.putRoom(this.withPresence(ev.room));
        break;
      case "room_removed":
        this.roomChanges++;
        this.dropRoom(ev.roomId);
        break;
      case "message_upserted":
        this.putMessage(ev.message);
        break;
      case "message_removed":
        this.withdrawMessage(ev.roomId, ev.localId);
        break;
      case "typing":
        if (ev.userId === this.me.userId) break;
        if (this.typing.update(ev.roomId, ev.userId, typistName(this.rooms.get(ev.roomId), ev.userId, ev.userName), ev.isTyping, Date.now())) {
          this.typingChanged(ev.roomId);
        }
        break;
      case "receipt": {
        const room = this.rooms.get(ev.roomId);
        if (room) this.putRoom(applyReceipt(room, ev.userId, ev.seq, this.me.userId));
        break;
      }
      case "presence":
        this.presence.set(ev.userId, { status: ev.status, lastSeen: ev.lastSeen });
        for (const room of this.rooms.values()) {
          const next = applyPresence(room, ev.userId, ev.status, ev.lastSeen);
          if (next) this.putRoom(next);
        }
        break;
      case "outbox_failed":
        this.outboxFailed(ev.roomId, ev.tempId, ev.reason);
        break;
      case "upload_progress": {
        // The message's files' sizes, to count those not started yet.
        const expected = this.uploads.has(ev.tempId) ? undefined : this.pendingSize(ev.roomId, ev.tempId);
        if (this.uploads.update(ev, expected) && ev.roomId === this.activeId) this.scheduleList(false);
        break;
      }
      case "synced":
        void this.resync();
        break;
    }
  }

  // ---- rooms -------------------------------------------------------------

  private async reloadRooms(): Promise<void> {
    try {
      // A room event that lands while the list is being read makes the list
      // stale (it would drop a room just added): read it again.
      let rooms: RoomView[];
      let seen: number;
      do {
        seen = this.roomChanges;
        rooms = await this.api.rooms();
      } while (seen !== this.roomChanges);
      const keep = new Set(rooms.map((r) => r.roomId));
      for (const id of [...this.rooms.keys()]) if (!keep.has(id)) this.dropRoom(id);
      for (const r of rooms) this.putRoom(this.withPresence(r));
      this.scheduleRooms();
    } catch (err) {
      toast(`Could not read your chats: ${errorMessage(err)}`);
    }
  }

  /** A room with the newest presence heard live (the store may lag behind). */
  private withPresence(room: RoomView): RoomView {
    let out = room;
    for (const m of room.members) {
      const p = this.presence.get(m.userId);
      if (p && (p.status !== m.status || (p.lastSeen && p.lastSeen !== m.lastSeen))) {
        out = applyPresence(out, m.userId, p.status, p.lastSeen) ?? out;
      }
    }
    return out;
  }

  private putRoom(room: RoomView): void {
    const before = this.rooms.get(room.roomId);
    this.rooms.set(room.roomId, room);
    if (!before) {
      const open = this.pendingOpen.arrived(room.roomId, Date.now());
      if (open) queueMicrotask(() => void this.openRoom(open));
    }
    if (room.roomId === this.activeId) {
      this.dirtyHeader = true;
      if (!before || before.members !== room.members) this.scheduleList(false);
    }
    this.scheduleRooms();
  }

  private dropRoom(roomId: string): void {
    this.rooms.delete(roomId);
    this.messages.delete(roomId);
    this.typing.clear(roomId);
    if (roomId === this.activeId) this.closeRoom();
    this.scheduleRooms();
  }

  private async openRoom(roomId: string): Promise<void> {
    const room = this.rooms.get(roomId);
    if (!room) return;
    this.el.dataset.pane = "chat";
    if (roomId === this.activeId) {
      this.chat.composer.focus();
      return;
    }
    this.leaveActive();
    this.activeId = roomId;
    this.api.setActiveRoom(roomId).catch(() => undefined);
    this.chat.setOpen(true);
    this.chat.composer.setText(this.drafts.get(roomId) ?? "");
    this.renderHeader();
    this.renderTyping();
    this.scheduleRooms();
    const cached = this.messages.get(roomId);
    if (cached) {
      this.chat.list.reset(cached, this.listContext(), !this.noOlder.has(roomId));
    } else {
      this.chat.list.reset([], this.listContext(), false);
      this.chat.list.setOlderState(false, true);
      await this.readFirstPage(roomId);
    }
    if (this.activeId === roomId) {
      this.chat.composer.focus();
      this.scheduleMarkRead();
    }
  }

  private async readFirstPage(roomId: string): Promise<void> {
    this.buffered.set(roomId, []);
    try {
      const page = await this.api.messages(roomId, PAGE);
      const list = mergeMessages(page, this.buffered.get(roomId) ?? []);
      this.messages.set(roomId, list);
      const room = this.rooms.get(roomId);
      if (page.length < PAGE && room && !room.hasOlder) this.noOlder.add(roomId);
      if (this.activeId === roomId) this.chat.list.reset(list, this.listContext(), !this.noOlder.has(roomId));
    } catch (err) {
      toast(`Could not read messages: ${errorMessage(err)}`);
      if (this.activeId === roomId) this.chat.list.setOlderState(false, false);
    } finally {
      this.buffered.delete(roomId);
    }
  }

  /** Stops typing in, and keeps the draft of, the open room. */
  private leaveActive(): void {
    if (!this.activeId) return;
    this.chat.composer.stopTyping();
    this.drafts.set(this.activeId, this.chat.composer.text);
  }

  private closeRoom(): void {
    this.leaveActive();
    this.activeId = null;
    this.api.setActiveRoom(null).catch(() => undefined);
    this.chat.setOpen(false);
    this.el.dataset.pane = "list";
    this.scheduleRooms();
    this.roomList.focus();
  }

  private async resync(): Promise<void> {
    // The catch-up may have changed anything: re-read the rooms and the open
    // room's newest page; other rooms' caches are dropped and re-read on open.
    await this.reloadRooms();
    for (const id of [...this.messages.keys()]) if (id !== this.activeId) this.messages.delete(id);
    const id = this.activeId;
    if (!id || this.buffered.has(id)) return;
    try {
      const page = await this.api.messages(id, PAGE);
      const list = mergeMessages(this.messages.get(id) ?? [], page);
      this.messages.set(id, list);
      if (this.activeId === id) this.scheduleList(false);
    } catch (err) {
      toast(`Could not read messages: ${errorMessage(err)}`);
    }
  }

  // ---- messages ----------------------------------------------------------

  private putMessage(msg: MessageView): void {
    // Acked, failed or withdrawn: its upload is over.
    if (msg.tempId !== null && msg.delivery !== "pending") this.uploads.delete(msg.tempId);
    const buffer = this.buffered.get(msg.roomId);
    if (buffer) buffer.push(msg);
    const list = this.messages.get(msg.roomId);
    if (list) {
      const { list: next, from } = upsertMessage(list, msg);
      this.messages.set(msg.roomId, next);
      if (msg.roomId === this.activeId) this.scheduleList(from < 0 && msg.senderId === this.me.userId);
    }
    const room = this.rooms.get(msg.roomId);
    const last = room?.lastMessage;
    if (room && !(last && isStaleCopy(last, msg)) && (!last || last.localId === msg.localId || compareMessages(last, msg) <= 0)) {
      // The shell's room_updated carries the real counts; until it comes, a
      // new message from someone else is one more unread.
      const isNew = msg.seq !== null && msg.seq > room.lastSeq;
      const unread = isNew && msg.senderId !== this.me.userId && msg.deletedAt === null;
      this.putRoom({
        ...room,
        lastMessage: msg,
        lastSeq: isNew ? (msg.seq as number) : room.lastSeq,
        unreadCount: room.unreadCount + (unread ? 1 : 0),
      });
    }
    if (this.typing.clear(msg.roomId, msg.senderId)) this.typingChanged(msg.roomId);
    if (msg.roomId === this.activeId) this.scheduleMarkRead();
  }

  private withdrawMessage(roomId: string, localId: number): void {
    const list = this.messages.get(roomId);
    if (list) {
      const { list: next, at } = removeMessage(list, localId);
      const gone = list[at]?.tempId;
      if (gone) this.uploads.delete(gone);
      if (at >= 0) {
        this.messages.set(roomId, next);
        if (roomId === this.activeId) this.scheduleList(false);
      }
    }
    const room = this.rooms.get(roomId);
    if (room?.lastMessage?.localId === localId) {
      const rest = this.messages.get(roomId);
      this.putRoom({ ...room, lastMessage: rest?.[rest.length - 1] ?? null });
    }
  }

  private outboxFailed(roomId: string, tempId: string, reason: string): void {
    toast(`Not sent: ${reason}`);
    const list = this.messages.get(roomId);
    const msg = list?.find((m) => m.tempId === tempId);
    // The store's own update will follow; show the failure now.
    if (msg && msg.delivery !== "failed") this.putMessage({ ...msg, delivery: "failed", error: reason });
  }

  private async send(text: string): Promise<void> {
    const roomId = this.activeId;
    if (!roomId) return;
    this.drafts.delete(roomId);
    try {
      const msg = await this.api.sendText(roomId, text);
      this.putMessage(msg);
      this.scheduleList(true);
    } catch (err) {
      toast(errorMessage(err));
      // Give the text back rather than lose it.
      if (this.activeId === roomId && this.chat.composer.text === "") this.chat.composer.setText(text);
    }
  }

  // ---- files -------------------------------------------------------------

  /** Bytes the files of a pending message add up to (undefined if unknown). */
  private pendingSize(roomId: string, tempId: string): number | undefined {
    const list = this.messages.get(roomId);
    if (!list) return undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      const m = list[i] as MessageView;
      if (m.tempId === tempId) return m.attachments.reduce((sum, a) => sum + a.size, 0) || undefined;
    }
    return undefined;
  }

  /** The attach button: pick files, then send them to the room it was pressed in. */
  private async attach(): Promise<void> {
    const roomId = this.activeId;
    if (!roomId) return;
    let paths: string[];
    try {
      paths = await this.api.pickFiles();
    } catch (err) {
      toast(`Could not open the file picker: ${errorMessage(err)}`);
      return;
    }
    if (paths.length > 0 && this.rooms.has(roomId)) {
      await this.sendQueued(roomId, paths.map((path) => ({ label: baseName(path), send: (caption) => this.api.sendFile(roomId, path, caption) })));
    }
    if (this.activeId === roomId) this.chat.composer.focus();
  }

  /** Files dragged over the window: the open room is the drop zone. */
  private onFileDrag(d: FileDrag): void {
    switch (d.type) {
      case "enter":
        this.dragging = true;
        this.chat.setDropTarget(this.activeId !== null && this.chat.isDropZone(d.x, d.y));
        break;
      case "over":
        if (this.dragging) this.chat.setDropTarget(this.activeId !== null && this.chat.isDropZone(d.x, d.y));
        break;
      case "leave":
        this.dragging = false;
        this.chat.setDropTarget(false);
        break;
      case "drop": {
        this.dragging = false;
        this.chat.setDropTarget(false);
        const roomId = this.activeId;
        if (!roomId && d.paths.length > 0) toast("Open a chat first, then drop the files on it.", "info");
        if (!roomId || d.paths.length === 0 || !this.chat.isDropZone(d.x, d.y)) break;
        void this.sendQueued(
          roomId,
          d.paths.map((path) => ({ label: baseName(path), send: (caption) => this.api.sendFile(roomId, path, caption) })),
        );
        break;
      }
    }
  }

  /** Images pasted into the composer: sent as files named by the time. */
  private async pasteImages(files: File[]): Promise<void> {
    const roomId = this.activeId;
    if (!roomId) return;
    const at = new Date();
    const jobs: { label: string; send: (caption: string) => Promise<MessageView> }[] = [];
    files.forEach((file, i) => {
      const name = pastedName(file.type, at, i);
      if (!name) {
        toast(`Images of type ${file.type || "unknown"} cannot be sent; paste a PNG, JPEG, GIF or WebP.`);
      } else if (file.size > MAX_PASTE_BYTES) {
        toast(`The pasted image is too big (${formatSize(file.size)}; at most ${formatSize(MAX_PASTE_BYTES)}).`);
      } else {
        jobs.push({
          label: name,
          send: async (caption) => {
            const bytes = Array.from(new Uint8Array(await file.arrayBuffer()));
            return this.api.sendFileBytes(roomId, name, bytes, caption);
          },
        });
      }
    });
    if (jobs.length > 0) await this.sendQueued(roomId, jobs);
  }

  /**
   * A paste that carried neither images nor text (WebKitGTK hands pasted
   * images to the page as nothing): the shell reads the OS clipboard's image
   * and sends it as a PNG, with the composer's text as its caption. Quiet
   * when the clipboard holds no image.
   */
  private async pasteClipboard(): Promise<void> {
    const roomId = this.activeId;
    if (!roomId) return;
    const caption = this.chat.composer.peekCaption();
    const name = pastedName("image/png", new Date()) ?? "pasted.png";
    let msg: MessageView;
    try {
      msg = await this.api.pasteClipboardImage(roomId, name, caption);
    } catch (err) {
      if (!isNoClipboardImage(err)) toast(`Could not send the pasted image: ${errorMessage(err)}`);
      return;
    }
    // The text went out as the caption: clear it (unless it was changed meanwhile).
    if (caption) {
      if (this.activeId === roomId) {
        if (this.chat.composer.peekCaption() === caption) {
          this.chat.composer.takeCaption();
          this.drafts.delete(roomId);
        }
      } else if (outgoingText(this.drafts.get(roomId) ?? "") === caption) {
        this.drafts.delete(roomId);
      }
    }
    this.putMessage(msg);
    if (msg.roomId === this.activeId) this.scheduleList(true);
  }

  /**
   * Queues files one after another (their order is kept). The composer's text
   * is the caption of the first one queued; if none could be, it is given back.
   */
  private async sendQueued(roomId: string, jobs: { label: string; send: (caption: string) => Promise<MessageView> }[]): Promise<void> {
    let caption = this.activeId === roomId ? this.chat.composer.takeCaption() : "";
    if (caption) this.drafts.delete(roomId);
    for (const job of jobs) {
      try {
        const msg = await job.send(caption);
        caption = "";
        this.putMessage(msg);
        if (msg.roomId === this.activeId) this.scheduleList(true);
      } catch (err) {
        toast(`Could not send ${job.label}: ${errorMessage(err)}`);
      }
    }
    if (caption) {
      if (this.activeId === roomId && this.chat.composer.text === "") this.chat.composer.setText(caption);
      else if (this.activeId !== roomId && !this.drafts.get(roomId)) this.drafts.set(roomId, caption);
    }
  }

  /** Copies an attachment to the Downloads folder and says where it went. */
  private async saveFile(att: Attachment): Promise<void> {
    try {
      const path = await this.api.saveFile(att.fileId);
      toast(`Saved to ${path}`, "info");
    } catch (err) {
      toast(`Could not save ${att.name}: ${errorMessage(err)}`);
    }
  }

  private async edit(msg: MessageView, text: string): Promise<void> {
    try {
      this.putMessage(await this.api.editMessage(messageKey(msg), text));
    } catch (err) {
      toast(errorMessage(err));
    }
  }

  private messageMenu(msg: MessageView, anchor: HTMLElement): void {
    openMenu(
      anchor,
      [
        ...(msg.type === "text" && msg.delivery !== "failed" ? [{ label: "Edit", run: () => this.chat.composer.startEdit(msg) }] : []),
        { label: "Delete", danger: true, run: () => void this.remove(msg) },
      ],
      "Message actions",
    );
  }

  private async remove(msg: MessageView): Promise<void> {
    const ok = await confirmDialog("Delete message?", "It will be deleted for everyone in this chat.", "Delete");
    if (!ok) return;
    try {
      await this.api.deleteMessage(messageKey(msg));
    } catch (err) {
      toast(errorMessage(err));
    }
    this.chat.composer.focus();
  }

  private async loadOlder(): Promise<void> {
    const roomId = this.activeId;
    if (!roomId || this.olderLoading || this.noOlder.has(roomId)) return;
    if ((this.olderBlockedUntil.get(roomId) ?? 0) > Date.now()) return;
    const before = oldestSeq(this.messages.get(roomId) ?? []);
    if (before === null) return;
    this.olderLoading = roomId;
    this.chat.list.setOlderState(true, true);
    try {
      let page = await this.api.messages(roomId, PAGE, before);
      if (page.length === 0 && this.rooms.get(roomId)?.hasOlder !== false) {
        const fetched = await this.api.loadOlder(roomId);
        if (fetched > 0) page = await this.api.messages(roomId, PAGE, before);
      }
      if (page.length === 0) this.noOlder.add(roomId);
      const list = mergeMessages(this.messages.get(roomId) ?? [], page);
      this.messages.set(roomId, list);
      if (this.activeId === roomId) this.chat.list.update(list, this.listContext());
    } catch (err) {
      this.olderBlockedUntil.set(roomId, Date.now() + OLDER_RETRY_MS);
      toast(`Could not load older messages: ${errorMessage(err)}`);
    } finally {
      this.olderLoading = null;
      if (this.activeId === roomId) this.chat.list.setOlderState(!this.noOlder.has(roomId), false);
    }
  }

  private scheduleMarkRead(): void {
    clearTimeout(this.markTimer);
    this.markTimer = window.setTimeout(() => this.markRead(), 300);
  }

  /** Moves the read pointer when the open room's newest message is on screen. */
  private markRead(): void {
    const id = this.activeId;
    if (!id || document.hidden || !document.hasFocus() || !this.chat.list.atBottom()) return;
    const room = this.rooms.get(id);
    const seq = newestSeq(this.messages.get(id) ?? []);
    if (!room || seq === null || seq <= room.myReadSeq || seq <= (this.markedSeq.get(id) ?? 0)) return;
    this.markedSeq.set(id, seq);
    this.api.markRead(id, seq).catch(() => this.markedSeq.delete(id));
    this.putRoom({ ...room, myReadSeq: seq, unreadCount: 0 });
  }

  // ---- typing, dialogs, sign-out ----------------------------------------

  private typingChanged(roomId: string): void {
    if (roomId === this.activeId) this.renderTyping();
    this.scheduleRooms();
    if (this.typing.active && !this.typingTimer) {
      this.typingTimer = window.setInterval(() => {
        for (const id of this.typing.expire(Date.now())) this.typingChanged(id);
        if (!this.typing.active) {
          clearInterval(this.typingTimer);
          this.typingTimer = 0;
        }
      }, 1000);
    }
  }

  private async newChat(): Promise<void> {
    const room = await newChatDialog(this.api, this.me.userId);
    if (room) {
      this.putRoom(this.withPresence(room));
      await this.openRoom(room.roomId);
    }
  }

  private async newGroup(): Promise<void> {
    const room = await newGroupDialog(this.api, this.me.userId);
    if (room) {
      this.putRoom(this.withPresence(room));
      await this.openRoom(room.roomId);
    }
  }

  private async signOut(): Promise<void> {
    if (!(await confirmDialog("Sign out?", `Sign out of ${this.me.server} on this device?`, "Sign out"))) return;
    try {
      await this.api.signOut();
      this.onSignedOut();
    } catch (err) {
      toast(errorMessage(err));
    }
  }

  // ---- rendering ---------------------------------------------------------

  private listContext() {
    const room = this.activeId ? this.rooms.get(this.activeId) : undefined;
    return {
      myUserId: this.me.userId,
      room,
      readSeq: room ? othersReadSeq(room.members, this.me.userId) : 0,
      progress: this.uploads.percents,
    };
  }

  private scheduleRooms(): void {
    this.dirtyRooms = true;
    this.scheduleFrame();
  }

  private scheduleList(toEnd: boolean): void {
    this.dirtyList = { toEnd: toEnd || (this.dirtyList?.toEnd ?? false) };
    this.scheduleFrame();
  }

  private scheduleFrame(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.flush();
    });
  }

  private flush(): void {
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
      const msgs = id ? this.messages.get(id) : undefined;
      if (msgs) this.chat.list.update(msgs, this.listContext(), list);
    }
  }

  private renderRooms(): void {
    const now = new Date();
    let rooms = sortRooms([...this.rooms.values()], this.me.userId);
    if (this.filter) rooms = rooms.filter((r) => roomTitle(r, this.me.userId).toLowerCase().includes(this.filter));
    const typing = new Map<string, string>();
    for (const r of rooms) {
      const label = typingLabel(this.typing.names(r.roomId));
      if (label) typing.set(r.roomId, label);
    }
    this.roomList.render(rooms, this.me.userId, this.activeId, now, typing);
    void this.badge.set(totalUnread(this.rooms.values()));
  }

  private renderHeader(): void {
    const room = this.activeId ? this.rooms.get(this.activeId) : undefined;
    if (!room) return;
    const { title, subtitle, avatar, online } = roomHeader(room, this.me.userId, new Date());
    this.chat.setHeader(title, subtitle, avatar, online);
  }

  private renderTyping(): void {
    this.chat.setTyping(this.activeId ? typingLabel(this.typing.names(this.activeId)) : "");
  }

  private renderBanner(): void {
    const b = this.connection ? connectionBanner(this.connection, this.wasOnline) : null;
    show(this.banner, b !== null);
    if (b) {
      setText(this.banner, b.text);
      this.banner.dataset.tone = b.tone;
    }
  }

  private tick(): void {
    // Relative times ("5 min ago", "Today") move on with the clock.
    this.renderRooms();
    this.renderHeader();
    if (this.activeId) this.scheduleList(false);
  }
}
