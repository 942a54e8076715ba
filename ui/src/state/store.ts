// What the signed-in UI knows, and the one place it changes: rooms, the
// messages of rooms that were opened, typists, presence, upload progress and
// the connection. The client core reports every change as an event, in order
// (the user's own sends, edits and deletes too, before their command
// returns), so the store takes state only from events and from pages read
// from the core's store; never from a command's answer. A room's preview,
// lastSeq and unread count are the numbers the event carries (`RoomCounts`),
// never counted here.
//
// No DOM, no I/O, no clock (the time is passed in): each change says what it
// touched (`Changes`), and the views redraw only that.

import type { ClientEvent, ConnectionState, MessageView, NotifyLevel, Origin, RoomCounts, RoomView } from "../types";
import { totalUnread } from "../logic/attention";
import { UploadTracker } from "../logic/files";
import { findMessage, mergeMessages, removeMessage, upsertMessage } from "../logic/messages";
import { applyPresence, moveReadPointer, typistName, withCounts } from "../logic/rooms";
import { TypingTracker } from "../logic/typing";

/** A user's presence as last heard live. */
export interface Presence {
  status: string;
  lastSeen: string | null;
}

/** What one change touched, so the views redraw only that. */
export class Changes {
  /** The room list needs a redraw (a room, its preview or counts, its typists). */
  roomList = false;
  /** The connection banner changed. */
  connection = false;
  /** Rooms whose view changed (the chat header). */
  readonly rooms = new Set<string>();
  /**
   * Rooms whose message list, or what its rows show (members, upload
   * progress), changed; true when one of the user's own new messages was
   * added (the list then scrolls to it).
   */
  readonly lists = new Map<string, boolean>();
  /** Rooms whose typists changed. */
  readonly typing = new Set<string>();
  /** Rooms that got a message (time to move the read pointer if open). */
  readonly messages = new Set<string>();
  /** Rooms new to the store. */
  readonly added: string[] = [];
  /** Rooms dropped from the store. */
  readonly removed: string[] = [];

  /** Marks a room's list changed (`toEnd`: scroll to the newest). */
  list(roomId: string, toEnd = false): void {
    this.lists.set(roomId, toEnd || (this.lists.get(roomId) ?? false));
  }
}

/** One message change that happened while a page was being read. */
type Logged = { msg: MessageView } | { removed: number };

/**
 * A page of messages being read from the core's store. Changes to the room
 * that land while it is read are logged and applied again after the page,
 * so a page read before a change never undoes it.
 */
export interface PageRead {
  readonly roomId: string;
  readonly log: Logged[];
}

/** Whether a change came from the user's history being filled in (not news). */
const isHistory = (origin: Origin): boolean => origin === "history";

/** The signed-in UI's data. */
export class ChatStore {
  private readonly roomMap = new Map<string, RoomView>();
  /** Messages of rooms opened at least once, kept current by events. */
  private readonly lists = new Map<string, MessageView[]>();
  /** Pages being read, by room. */
  private readonly reads = new Map<string, PageRead[]>();
  /** Rooms whose history is known to be complete. */
  private readonly complete = new Set<string>();
  /**
   * Rooms whose list shows the history around a message found by search,
   * apart from their newest messages: new messages are not added to it (they
   * would sit after a gap), changes to the messages it shows are.
   */
  private readonly contexts = new Set<string>();
  private readonly presenceMap = new Map<string, Presence>();
  private readonly uploads = new UploadTracker();
  private readonly typists = new TypingTracker();
  private conn: ConnectionState | null = null;
  private everOnline = false;
  /** The user's default notification level (rooms that follow it show it). */
  private defaultLevel: NotifyLevel = "all";
  /** Counts changes that touch rooms (tells a slow `rooms()` read what is newer). */
  private rev = 0;
  /** When each room was last changed by an event (also rooms since removed). */
  private readonly touched = new Map<string, number>();
  /** When an event last spoke of a room the store does not know. */
  private unknownAt = 0;

  constructor(readonly myUserId: string) {}

  // ---- reading -------------------------------------------------------------

  /** A room, if known. */
  room(roomId: string): RoomView | undefined {
    return this.roomMap.get(roomId);
  }

  /** Every known room, unordered. */
  rooms(): RoomView[] {
    return [...this.roomMap.values()];
  }

  /** A room's messages in display order, if its first page was read. */
  messages(roomId: string): readonly MessageView[] | undefined {
    return this.lists.get(roomId);
  }

  /** Whether older history of a room may still exist. */
  hasOlder(roomId: string): boolean {
    return !this.complete.has(roomId);
  }

  /** Whether the room's list shows the history around a found message (see `showContext`). */
  inContext(roomId: string): boolean {
    return this.contexts.has(roomId);
  }

  /** Whether a page of this room is being read. */
  reading(roomId: string): boolean {
    return (this.reads.get(roomId)?.length ?? 0) > 0;
  }

  /** Who is typing in a room, in the order they started. */
  typingNames(roomId: string): string[] {
    return this.typists.names(roomId);
  }

  /** Whether anyone types anywhere (so their expiry needs a timer). */
  get typingActive(): boolean {
    return this.typists.active;
  }

  /** Upload progress of pending messages, percent by tempId. */
  get progress(): ReadonlyMap<string, number> {
    return this.uploads.percents;
  }

  /** The user's default notification level. */
  get notifyDefault(): NotifyLevel {
    return this.defaultLevel;
  }

  /** The default level read at start (events keep it current after). */
  setNotifyDefault(level: NotifyLevel): void {
    this.defaultLevel = level;
  }

  /** The connection, once heard of. */
  get connection(): ConnectionState | null {
    return this.conn;
  }

  /** Whether the connection was ever up (a drop then says "reconnecting"). */
  get wasOnline(): boolean {
    return this.everOnline;
  }

  /** A user's presence as last heard live. */
  presence(userId: string): Presence | undefined {
    return this.presenceMap.get(userId);
  }

  /** Unread messages over every room, as the core counted them. */
  unreadTotal(): number {
    return totalUnread(this.roomMap.values());
  }

  /** Where the store stands, to hand to `loadRooms` for a `rooms()` read started now. */
  get revision(): number {
    return this.rev;
  }

  // ---- events --------------------------------------------------------------

  /** Applies one event from the client core (`now`: ms, for typists' expiry). */
  apply(ev: ClientEvent, now: number): Changes {
    const c = new Changes();
    switch (ev.kind) {
      case "connection":
        this.conn = ev.state;
        c.connection = true;
        if (ev.state === "online") this.everOnline = true;
        // Typists' "stopped" pushes are lost while disconnected.
        else for (const id of this.typists.clearAll()) this.typingChanged(c, id);
        break;
      case "room_updated":
        this.touch(ev.room.roomId);
        this.putRoom(c, this.withPresence(ev.room));
        break;
      case "room_removed":
        this.touch(ev.roomId);
        this.dropRoom(c, ev.roomId);
        break;
      case "message_upserted":
        this.putMessage(c, ev.message, ev.origin);
        this.putCounts(c, ev.room);
        break;
      case "message_removed":
        this.withdraw(c, ev.roomId, ev.localId);
        this.putCounts(c, ev.room);
        break;
      case "typing": {
        if (ev.userId === this.myUserId) break;
        const name = typistName(this.roomMap.get(ev.roomId), ev.userId, ev.userName);
        if (this.typists.update(ev.roomId, ev.userId, name, ev.isTyping, now)) this.typingChanged(c, ev.roomId);
        break;
      }
      case "receipt":
        this.putCounts(c, ev.room, (room) => moveReadPointer(room, ev.userId, ev.seq));
        break;
      case "presence":
        this.presenceMap.set(ev.userId, { status: ev.status, lastSeen: ev.lastSeen });
        for (const room of this.roomMap.values()) {
          const next = applyPresence(room, ev.userId, ev.status, ev.lastSeen);
          if (next) this.putRoom(c, next);
        }
        break;
      case "upload_progress": {
        // The message's files' sizes, to count those not started yet.
        const expected = this.uploads.has(ev.tempId) ? undefined : this.pendingSize(ev.roomId, ev.tempId);
        if (this.uploads.update(ev, expected)) c.list(ev.roomId);
        break;
      }
      // The rooms that follow it came as `room_updated` before it.
      case "notify_default":
        this.defaultLevel = ev.level;
        break;
      // The message's own change came as `message_upserted` before it.
      case "outbox_failed":
      // The app re-reads (see `loadRooms`, `beginRead`).
      case "synced":
        break;
    }
    return c;
  }

  /** Drops typists whose time ran out. */
  expireTyping(now: number): Changes {
    const c = new Changes();
    for (const id of this.typists.expire(now)) this.typingChanged(c, id);
    return c;
  }

  // ---- reads from the core's store -----------------------------------------

  /**
   * Takes the rooms read by `rooms()` (started when the store was at
   * `since`, see `revision`). A room an event changed meanwhile keeps what the
   * event said (it is newer); a room missing from the read is dropped unless
   * it came meanwhile. `stale` says an event spoke of a room the read did not
   * know yet: read again.
   */
  loadRooms(rooms: readonly RoomView[], since: number): { changes: Changes; stale: boolean } {
    const c = new Changes();
    const newer = (id: string): boolean => (this.touched.get(id) ?? 0) > since;
    const keep = new Set(rooms.map((r) => r.roomId));
    for (const id of [...this.roomMap.keys()]) if (!keep.has(id) && !newer(id)) this.dropRoom(c, id);
    for (const r of rooms) if (!newer(r.roomId)) this.putRoom(c, this.withPresence(r));
    c.roomList = true;
    return { changes: c, stale: this.unknownAt > since };
  }

  /** Starts reading a page of a room's messages (see `PageRead`). */
  beginRead(roomId: string): PageRead {
    const read: PageRead = { roomId, log: [] };
    const open = this.reads.get(roomId);
    if (open) open.push(read);
    else this.reads.set(roomId, [read]);
    return read;
  }

  /**
   * Takes a page read since `beginRead`: merged into the room's messages
   * (which it starts, for a first page), then the changes logged meanwhile
   * again. `noOlder`: the history is known to be complete.
   */
  endRead(read: PageRead, page: readonly MessageView[], noOlder = false): Changes {
    const c = new Changes();
    // Cancelled (the list was replaced meanwhile, see `showContext`): stale.
    if (!this.reads.get(read.roomId)?.includes(read)) return c;
    this.forgetRead(read);
    // The room went while it was read.
    if (!this.roomMap.has(read.roomId)) return c;
    let list = mergeMessages(this.lists.get(read.roomId) ?? [], page);
    for (const e of read.log) list = "msg" in e ? upsertMessage(list, e.msg).list : removeMessage(list, e.removed).list;
    this.lists.set(read.roomId, list);
    if (noOlder) this.complete.add(read.roomId);
    c.list(read.roomId);
    return c;
  }

  /**
   * The room's list becomes the history around a found message (`messages`,
   * from the core's `message_context`), or (`replace` false) grows by more
   * of it. `hasOlder`: older history exists.
   */
  showContext(roomId: string, messages: readonly MessageView[], hasOlder: boolean, replace = true): Changes {
    const c = new Changes();
    if (!this.roomMap.has(roomId)) return c;
    const base = !replace && this.contexts.has(roomId) ? (this.lists.get(roomId) ?? []) : [];
    // Pages being read belong to the list this one replaces.
    this.reads.delete(roomId);
    this.contexts.add(roomId);
    this.lists.set(roomId, mergeMessages(base, messages));
    if (hasOlder) this.complete.delete(roomId);
    else this.complete.add(roomId);
    c.list(roomId);
    return c;
  }

  /** The room's list goes back to its newest messages (read them again). */
  leaveContext(roomId: string): void {
    if (!this.contexts.delete(roomId)) return;
    this.lists.delete(roomId);
    this.complete.delete(roomId);
    this.reads.delete(roomId);
  }

  /** A read that failed: nothing changes. */
  abortRead(read: PageRead): void {
    this.forgetRead(read);
  }

  /** Forgets the messages of every room but `keepId` (re-read when opened). */
  dropMessagesExcept(keepId: string | null): void {
    for (const id of [...this.lists.keys()]) if (id !== keepId) this.lists.delete(id);
    for (const id of [...this.contexts]) if (id !== keepId) this.contexts.delete(id);
  }

  /**
   * The user read up to `seq` here (`mark_read` is on its way): the badge goes
   * at once. The core's own numbers follow with its `room_updated`.
   */
  readLocally(roomId: string, seq: number): Changes {
    const c = new Changes();
    const room = this.roomMap.get(roomId);
    if (!room) return c;
    this.touch(roomId);
    this.putRoom(c, { ...room, myReadSeq: seq, unreadCount: 0 });
    return c;
  }

  // ---- inside --------------------------------------------------------------

  private touch(roomId: string): void {
    this.touched.set(roomId, ++this.rev);
  }

  private forgetRead(read: PageRead): void {
    const open = this.reads.get(read.roomId);
    if (!open) return;
    const rest = open.filter((r) => r !== read);
    if (rest.length > 0) this.reads.set(read.roomId, rest);
    else this.reads.delete(read.roomId);
  }

  private log(roomId: string, e: Logged): void {
    for (const read of this.reads.get(roomId) ?? []) read.log.push(e);
  }

  /** A room with the newest presence heard live (the core's store may lag behind). */
  private withPresence(room: RoomView): RoomView {
    let out = room;
    for (const m of room.members) {
      const p = this.presenceMap.get(m.userId);
      if (p && (p.status !== m.status || (p.lastSeen && p.lastSeen !== m.lastSeen))) {
        out = applyPresence(out, m.userId, p.status, p.lastSeen) ?? out;
      }
    }
    return out;
  }

  private putRoom(c: Changes, room: RoomView): void {
    const before = this.roomMap.get(room.roomId);
    this.roomMap.set(room.roomId, room);
    if (!before) c.added.push(room.roomId);
    c.rooms.add(room.roomId);
    // Names and ✓✓ in the list come from the members.
    if (!before || before.members !== room.members) c.list(room.roomId);
    c.roomList = true;
  }

  private dropRoom(c: Changes, roomId: string): void {
    this.roomMap.delete(roomId);
    this.lists.delete(roomId);
    this.contexts.delete(roomId);
    this.typists.clear(roomId);
    c.removed.push(roomId);
    c.roomList = true;
  }

  /**
   * The room's preview and numbers as the core has them after the change,
   * with `change` (a receipt's read pointer) applied to the room first.
   */
  private putCounts(c: Changes, counts: RoomCounts, change = (room: RoomView): RoomView => room): void {
    const room = this.roomMap.get(counts.roomId);
    if (!room) {
      this.unknownAt = ++this.rev;
      return;
    }
    this.touch(counts.roomId);
    this.putRoom(c, withCounts(change(room), counts));
  }

  private putMessage(c: Changes, msg: MessageView, origin: Origin): void {
    const { roomId } = msg;
    // Acked, failed or withdrawn: its upload is over.
    if (msg.tempId !== null && msg.delivery !== "pending") this.uploads.delete(msg.tempId);
    this.log(roomId, { msg });
    const list = this.lists.get(roomId);
    // Around a found message, only what is shown changes (see `contexts`);
    // a message stored apart from the loaded history (an edit of one never
    // loaded, say) is not part of the list unless it shows already.
    const apart = this.contexts.has(roomId) || msg.island;
    if (list && !(apart && findMessage(list, msg) < 0)) {
      const { list: next, from } = upsertMessage(list, msg);
      this.lists.set(roomId, next);
      c.list(roomId, from < 0 && msg.senderId === this.myUserId && !isHistory(origin));
    }
    // A typist's message ends their typing.
    if (!isHistory(origin) && this.typists.clear(roomId, msg.senderId)) this.typingChanged(c, roomId);
    c.messages.add(roomId);
  }

  private withdraw(c: Changes, roomId: string, localId: number): void {
    this.log(roomId, { removed: localId });
    const list = this.lists.get(roomId);
    if (!list) return;
    const { list: next, at } = removeMessage(list, localId);
    if (at < 0) return;
    const gone = list[at]?.tempId;
    if (gone) this.uploads.delete(gone);
    this.lists.set(roomId, next);
    c.list(roomId);
  }

  private typingChanged(c: Changes, roomId: string): void {
    c.typing.add(roomId);
    c.roomList = true;
  }

  /** Bytes the files of a pending message add up to (undefined if unknown). */
  private pendingSize(roomId: string, tempId: string): number | undefined {
    const list = this.lists.get(roomId);
    if (!list) return undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      const m = list[i] as MessageView;
      if (m.tempId === tempId) return m.attachments.reduce((sum, a) => sum + a.size, 0) || undefined;
    }
    return undefined;
  }
}
