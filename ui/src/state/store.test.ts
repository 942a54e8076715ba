import { describe, expect, it } from "vitest";
import type { ClientEvent, MessageChange, MessageView, Origin, RoomCounts } from "../types";
import { member, msg, order, pending, room } from "../logic/fixtures";
import { ChatStore } from "./store";

const ME = "alice";
const T = 1_000_000;

const counts = (over: Partial<RoomCounts> = {}): RoomCounts => ({
  roomId: "r1",
  lastSeq: 0,
  myReadSeq: 0,
  unreadCount: 0,
  mentionCount: 0,
  lastMessage: null,
  ...over,
});

/** The event for a message change, with the room's counts after it. */
function upserted(message: MessageView, change: MessageChange, origin: Origin, room: Partial<RoomCounts> = {}): ClientEvent {
  return { kind: "message_upserted", message, change, origin, room: counts({ roomId: message.roomId, lastMessage: message, ...room }) };
}

/** A store that knows room r1 (bob and the user) and has read its first page. */
function withRoom(page: MessageView[] = [msg({ localId: 1, seq: 1, senderId: "bob" })], over = {}): ChatStore {
  const store = new ChatStore(ME);
  store.apply({ kind: "room_updated", room: room({ lastSeq: 1, myReadSeq: 1, lastMessage: page[page.length - 1] ?? null, ...over }) }, T);
  store.endRead(store.beginRead("r1"), page);
  return store;
}

describe("the user's own messages", () => {
  it("shows a local send at once, and its ack replaces the pending copy without a second one", () => {
    const store = withRoom();
    const local = pending(5, { senderId: ME, tempId: "t5" });
    const sent = store.apply(upserted(local, "new", "local", { lastSeq: 1, myReadSeq: 1 }), T);
    expect(order(store.messages("r1") ?? [])).toEqual(["1", "p5"]);
    expect(sent.lists.get("r1")).toBe(true); // the list scrolls to it
    expect(store.room("r1")?.lastMessage).toBe(local);

    const acked = msg({ localId: 5, seq: 2, senderId: ME, tempId: "t5" });
    const c = store.apply(upserted(acked, "delivery", "acked", { lastSeq: 2, myReadSeq: 2 }), T);
    const list = store.messages("r1") ?? [];
    expect(order(list)).toEqual(["1", "2"]);
    expect(list.filter((m) => m.tempId === "t5")).toHaveLength(1);
    expect(list[1]?.delivery).toBe("sent");
    expect(c.lists.get("r1")).toBe(false); // replaced in place: no jump
    expect(store.room("r1")).toMatchObject({ lastSeq: 2, myReadSeq: 2, lastMessage: acked });
  });

  it("keeps what the events said when a page read before them comes back after", () => {
    // The old race of a command's answer and its ack's event, now between a
    // page read and the events that land while it is read.
    const store = withRoom();
    const read = store.beginRead("r1");
    const acked = msg({ localId: 5, seq: 2, senderId: ME, tempId: "t5" });
    store.apply(upserted(pending(5, { senderId: ME }), "new", "local"), T);
    store.apply(upserted(acked, "delivery", "acked", { lastSeq: 2 }), T);
    store.apply({ kind: "message_removed", roomId: "r1", localId: 1, room: counts({ lastSeq: 2, lastMessage: acked }) }, T);
    // Read before any of that: message 1 still there, 5 still pending.
    store.endRead(read, [msg({ localId: 1, seq: 1, senderId: "bob" }), pending(5, { senderId: ME })]);
    expect(store.messages("r1")).toEqual([acked]);
  });

  it("does not scroll for the user's messages filled in from history", () => {
    const store = withRoom([msg({ localId: 9, seq: 9 })]);
    const c = store.apply(upserted(msg({ localId: 2, seq: 2, senderId: ME }), "new", "history", { lastMessage: msg({ localId: 9, seq: 9 }) }), T);
    expect(c.lists.get("r1")).toBe(false);
    expect(order(store.messages("r1") ?? [])).toEqual(["2", "9"]);
  });
});

describe("room counts", () => {
  it("takes the unread count and preview from the event, not from the message", () => {
    const store = withRoom([], { unreadCount: 3 });
    const newest = msg({ localId: 7, seq: 7, senderId: "bob", content: "newest" });
    // An older message arrives (a catch-up): the count and preview are the core's.
    const c = store.apply(upserted(msg({ localId: 4, seq: 4, senderId: "bob" }), "new", "sync", { lastSeq: 7, myReadSeq: 1, unreadCount: 6, lastMessage: newest }), T);
    expect(store.room("r1")).toMatchObject({ lastSeq: 7, myReadSeq: 1, unreadCount: 6, lastMessage: newest });
    expect(c.roomList).toBe(true);
    expect(store.unreadTotal()).toBe(6);
    // An edit of an old message counts nothing new either: the event says so.
    store.apply(upserted(msg({ localId: 4, seq: 4, senderId: "bob", content: "x" }), "edited", "live", { lastSeq: 7, myReadSeq: 1, unreadCount: 6, lastMessage: newest }), T);
    expect(store.room("r1")?.unreadCount).toBe(6);
  });

  it("applies counts to a room whose messages were never read", () => {
    const store = new ChatStore(ME);
    store.apply({ kind: "room_updated", room: room() }, T);
    const m = msg({ localId: 3, seq: 3, senderId: "bob" });
    store.apply(upserted(m, "new", "live", { lastSeq: 3, unreadCount: 1 }), T);
    expect(store.messages("r1")).toBeUndefined();
    expect(store.room("r1")).toMatchObject({ lastSeq: 3, unreadCount: 1, lastMessage: m });
  });

  it("moves a member's pointer and takes the counts from a receipt", () => {
    const store = withRoom([msg({ localId: 1, seq: 1, senderId: "bob" }), msg({ localId: 2, seq: 2, senderId: "bob" })], {
      lastSeq: 2,
      myReadSeq: 0,
      unreadCount: 2,
      members: [member(ME), member("bob")],
    });
    // The user read up to 2 on another device.
    const c = store.apply({ kind: "receipt", roomId: "r1", userId: ME, seq: 2, room: counts({ lastSeq: 2, myReadSeq: 2, unreadCount: 0 }) }, T);
    expect(store.room("r1")).toMatchObject({ myReadSeq: 2, unreadCount: 0 });
    expect(store.room("r1")?.members[0]?.lastReadSeq).toBe(2);
    expect(c.lists.has("r1")).toBe(true); // ✓✓ may change
    expect(store.unreadTotal()).toBe(0);
    // Bob's pointer: his member moves; the counts are still the event's.
    store.apply({ kind: "receipt", roomId: "r1", userId: "bob", seq: 2, room: counts({ lastSeq: 2, myReadSeq: 2, unreadCount: 0 }) }, T);
    expect(store.room("r1")?.members[1]?.lastReadSeq).toBe(2);
  });

  it("clears the badge at once when the user reads here, until the core's numbers come", () => {
    const store = withRoom([], { lastSeq: 5, myReadSeq: 2, unreadCount: 3 });
    store.readLocally("r1", 5);
    expect(store.room("r1")).toMatchObject({ myReadSeq: 5, unreadCount: 0 });
  });
});

describe("removals", () => {
  it("drops a removed room with its messages and typists", () => {
    const store = withRoom();
    store.apply({ kind: "typing", roomId: "r1", userId: "bob", userName: "bob", isTyping: true }, T);
    const c = store.apply({ kind: "room_removed", roomId: "r1" }, T);
    expect(store.room("r1")).toBeUndefined();
    expect(store.messages("r1")).toBeUndefined();
    expect(store.typingNames("r1")).toEqual([]);
    expect(c.removed).toEqual(["r1"]);
  });

  it("withdraws a pending message, its upload and takes the preview from the event", () => {
    const first = msg({ localId: 1, seq: 1, senderId: "bob" });
    const store = withRoom([first]);
    const file = pending(6, { senderId: ME, tempId: "t6", attachments: [{ fileId: "", name: "a.png", mime: "image/png", size: 100, url: "" }] });
    store.apply(upserted(file, "new", "local", { lastSeq: 1 }), T);
    store.apply({ kind: "upload_progress", roomId: "r1", tempId: "t6", name: "a.png", sent: 50, total: 100 }, T);
    expect(store.progress.get("t6")).toBe(50);
    const c = store.apply({ kind: "message_removed", roomId: "r1", localId: 6, room: counts({ lastSeq: 1, lastMessage: first }) }, T);
    expect(order(store.messages("r1") ?? [])).toEqual(["1"]);
    expect(store.progress.has("t6")).toBe(false);
    expect(store.room("r1")?.lastMessage).toBe(first);
    expect(c.lists.has("r1")).toBe(true);
  });
});

describe("uploads", () => {
  it("counts progress against the message's files and forgets it once acked", () => {
    const store = withRoom();
    const att = (name: string) => ({ fileId: "", name, mime: "image/png", size: 100, url: "" });
    store.apply(upserted(pending(6, { senderId: ME, tempId: "t6", attachments: [att("a.png"), att("b.png")] }), "new", "local"), T);
    const c = store.apply({ kind: "upload_progress", roomId: "r1", tempId: "t6", name: "a.png", sent: 100, total: 100 }, T);
    expect(store.progress.get("t6")).toBe(50);
    expect(c.lists.has("r1")).toBe(true);
    store.apply(upserted(msg({ localId: 6, seq: 2, senderId: ME, tempId: "t6" }), "delivery", "acked"), T);
    expect(store.progress.has("t6")).toBe(false);
  });
});

describe("typists", () => {
  it("names typists as the room does, and a typist's message ends their typing", () => {
    const store = withRoom([], { members: [member(ME), member("bob", { displayName: "Bob Stone" })] });
    const c = store.apply({ kind: "typing", roomId: "r1", userId: "bob", userName: "bob", isTyping: true }, T);
    expect(c.typing.has("r1")).toBe(true);
    expect(store.typingNames("r1")).toEqual(["Bob Stone"]);
    store.apply(upserted(msg({ localId: 3, seq: 3, senderId: "bob" }), "new", "live"), T);
    expect(store.typingNames("r1")).toEqual([]);
  });

  it("ignores the user's own typing, forgets everyone when the connection drops, and expires", () => {
    const store = withRoom();
    store.apply({ kind: "typing", roomId: "r1", userId: ME, userName: ME, isTyping: true }, T);
    expect(store.typingActive).toBe(false);
    store.apply({ kind: "typing", roomId: "r1", userId: "bob", userName: "bob", isTyping: true }, T);
    expect(store.apply({ kind: "connection", state: "offline" }, T).typing.has("r1")).toBe(true);
    expect(store.typingActive).toBe(false);
    store.apply({ kind: "typing", roomId: "r1", userId: "bob", userName: "bob", isTyping: true }, T);
    expect(store.expireTyping(T + 120_000).typing.has("r1")).toBe(true);
    expect(store.typingActive).toBe(false);
  });
});

describe("connection and presence", () => {
  it("remembers whether the connection was ever up", () => {
    const store = new ChatStore(ME);
    store.apply({ kind: "connection", state: "connecting" }, T);
    expect(store.wasOnline).toBe(false);
    store.apply({ kind: "connection", state: "online" }, T);
    store.apply({ kind: "connection", state: "offline" }, T);
    expect(store.connection).toBe("offline");
    expect(store.wasOnline).toBe(true);
  });

  it("applies presence to the rooms, and to rooms read later", () => {
    const store = new ChatStore(ME);
    store.apply({ kind: "room_updated", room: room() }, T);
    store.apply({ kind: "presence", userId: "bob", status: "online", lastSeen: null }, T);
    expect(store.room("r1")?.members[1]?.status).toBe("online");
    const { changes } = store.loadRooms([room({ roomId: "r2", type: "group", members: [member(ME), member("bob")] })], store.revision);
    expect(store.room("r2")?.members[1]?.status).toBe("online");
    expect(changes.removed).toEqual(["r1"]);
  });
});

describe("loadRooms", () => {
  it("keeps what events said during the read, and rooms that came meanwhile", () => {
    const store = new ChatStore(ME);
    store.apply({ kind: "room_updated", room: room({ roomId: "a" }) }, T);
    store.apply({ kind: "room_updated", room: room({ roomId: "gone" }) }, T);
    const since = store.revision;
    const m = msg({ localId: 4, seq: 4, roomId: "a", senderId: "bob" });
    store.apply(upserted(m, "new", "live", { roomId: "a", lastSeq: 4, unreadCount: 1 }), T);
    store.apply({ kind: "room_updated", room: room({ roomId: "new" }) }, T);
    store.apply({ kind: "room_removed", roomId: "b" }, T);
    // Read before those events: "a" without the message, "b" still there, no "new".
    const { stale } = store.loadRooms([room({ roomId: "a" }), room({ roomId: "b" })], since);
    expect(stale).toBe(false);
    expect(store.room("a")).toMatchObject({ lastSeq: 4, unreadCount: 1, lastMessage: m });
    expect(store.room("b")).toBeUndefined();
    expect(store.room("new")).toBeDefined();
    expect(store.room("gone")).toBeUndefined();
  });

  it("asks for another read when an event spoke of a room it did not know", () => {
    const store = new ChatStore(ME);
    const since = store.revision;
    store.apply(upserted(msg({ roomId: "x" }), "new", "live", { roomId: "x" }), T);
    expect(store.loadRooms([], since).stale).toBe(true);
    expect(store.loadRooms([room({ roomId: "x" })], store.revision).stale).toBe(false);
  });
});

describe("pages", () => {
  it("holds events that land while a first page is read and applies them after it", () => {
    const store = new ChatStore(ME);
    store.apply({ kind: "room_updated", room: room() }, T);
    const read = store.beginRead("r1");
    expect(store.reading("r1")).toBe(true);
    store.apply(upserted(msg({ localId: 3, seq: 3, senderId: "bob" }), "new", "live"), T);
    expect(store.messages("r1")).toBeUndefined();
    store.endRead(read, [msg({ localId: 1, seq: 1 }), msg({ localId: 2, seq: 2 })], true);
    expect(order(store.messages("r1") ?? [])).toEqual(["1", "2", "3"]);
    expect(store.hasOlder("r1")).toBe(false);
    expect(store.reading("r1")).toBe(false);
  });

  it("changes nothing for a failed read, or a room that went while it was read", () => {
    const store = new ChatStore(ME);
    store.apply({ kind: "room_updated", room: room() }, T);
    store.abortRead(store.beginRead("r1"));
    expect(store.messages("r1")).toBeUndefined();
    const read = store.beginRead("r1");
    store.apply({ kind: "room_removed", roomId: "r1" }, T);
    store.endRead(read, [msg()]);
    expect(store.messages("r1")).toBeUndefined();
  });

  it("forgets other rooms' messages after a catch-up", () => {
    const store = withRoom();
    store.apply({ kind: "room_updated", room: room({ roomId: "r2" }) }, T);
    store.endRead(store.beginRead("r2"), [msg({ roomId: "r2" })]);
    store.dropMessagesExcept("r2");
    expect(store.messages("r1")).toBeUndefined();
    expect(store.messages("r2")).toHaveLength(1);
  });
});

describe("the history around a found message", () => {
  it("shows only what was fetched around it: new messages stay out, changes to it come in, and leaving goes back", () => {
    const store = withRoom([msg({ localId: 100, seq: 100, senderId: "bob" })]);
    const around = [msg({ localId: 1, seq: 10, island: true }), msg({ localId: 2, seq: 11, island: true })];
    const c = store.showContext("r1", around, true);
    expect(c.lists.has("r1")).toBe(true);
    expect(store.inContext("r1")).toBe(true);
    expect(order(store.messages("r1") ?? [])).toEqual(["10", "11"]);
    expect(store.hasOlder("r1")).toBe(true);

    // A new message would sit after a gap: not added. An edit of a shown one is.
    store.apply(upserted(msg({ localId: 101, seq: 101, senderId: "bob" }), "new", "live"), T);
    expect(order(store.messages("r1") ?? [])).toEqual(["10", "11"]);
    store.apply(upserted(msg({ localId: 2, seq: 11, content: "edited", island: true }), "edited", "live"), T);
    expect(store.messages("r1")?.[1]?.content).toBe("edited");

    // More of it (older) merges; the oldest known ends "has older".
    store.showContext("r1", [msg({ localId: 3, seq: 9, island: true })], false, false);
    expect(order(store.messages("r1") ?? [])).toEqual(["9", "10", "11"]);
    expect(store.hasOlder("r1")).toBe(false);

    store.leaveContext("r1");
    expect(store.inContext("r1")).toBe(false);
    expect(store.messages("r1")).toBeUndefined(); // read again from the newest
  });
});

describe("messages stored apart from the loaded history", () => {
  it("are not added to a room's list by their events (an edit of one never loaded)", () => {
    const store = withRoom([msg({ localId: 100, seq: 100, senderId: "bob" })]);
    store.apply(upserted(msg({ localId: 7, seq: 7, senderId: "bob", content: "old, edited", island: true }), "edited", "live"), T);
    expect(order(store.messages("r1") ?? [])).toEqual(["100"]);
  });

  it("a page read before the list became a found message's history does not land in it", () => {
    const store = withRoom([msg({ localId: 100, seq: 100, senderId: "bob" })]);
    const read = store.beginRead("r1");
    store.showContext("r1", [msg({ localId: 1, seq: 10, island: true })], true);
    store.endRead(read, [msg({ localId: 100, seq: 100, senderId: "bob" }), msg({ localId: 101, seq: 101, senderId: "bob" })]);
    expect(order(store.messages("r1") ?? [])).toEqual(["10"]);
    // Another result replaces it, not adds to it.
    store.showContext("r1", [msg({ localId: 2, seq: 50, island: true })], true);
    expect(order(store.messages("r1") ?? [])).toEqual(["50"]);
  });
});
