import { describe, expect, it } from "vitest";
import { member, msg, room } from "./fixtures";
import {
  applyPresence,
  avatarFileId,
  directPartner,
  initials,
  messageSummary,
  moveReadPointer,
  roomHeader,
  roomPreview,
  roomTitle,
  sortRooms,
  typistName,
  withCounts,
} from "./rooms";

const ME = "alice";

describe("titles and partners", () => {
  it("finds the other member of a direct room", () => {
    expect(directPartner(room(), ME)?.userId).toBe("bob");
    expect(directPartner(room({ type: "group" }), ME)).toBeNull();
  });
  it("uses the room name, else the partner's name, else the members", () => {
    expect(roomTitle(room({ name: "Bob S." }), ME)).toBe("Bob S.");
    expect(roomTitle(room(), ME)).toBe("Bob");
    const g = room({ type: "group", members: [member("alice"), member("bob"), member("carol", { displayName: "" })] });
    expect(roomTitle(g, ME)).toBe("Bob, carol");
  });
  it("makes initials from a title", () => {
    expect(initials("Bob Stone")).toBe("BS");
    expect(initials("bob")).toBe("B");
    expect(initials("")).toBe("?");
  });
});

describe("previews", () => {
  it("prefixes the user's own messages with You", () => {
    expect(roomPreview(room({ lastMessage: msg({ senderId: ME, content: "hi" }) }), ME)).toBe("You: hi");
  });
  it("names the sender in groups", () => {
    const g = room({ type: "group", lastMessage: msg({ senderId: "bob", content: "hey" }) });
    expect(roomPreview(g, ME)).toBe("Bob: hey");
  });
  it("shows a direct message bare, on one line", () => {
    expect(roomPreview(room({ lastMessage: msg({ senderId: "bob", content: "a\n  b" }) }), ME)).toBe("a b");
  });
  it("summarises tombstones, files and empty rooms", () => {
    expect(messageSummary(msg({ deletedAt: "2024-03-05T10:00:00Z" }))).toBe("Message deleted");
    const photo = { fileId: "f", name: "cat.png", mime: "image/png", size: 1, url: "/f" };
    expect(messageSummary(msg({ content: "", attachments: [photo, photo] }))).toBe("Photo (+1)");
    expect(roomPreview(room(), ME)).toBe("No messages yet");
  });
});

describe("sortRooms", () => {
  it("puts the newest activity first and quiet rooms by title", () => {
    const a = room({ roomId: "a", name: "Zed", lastMessage: msg({ createdAt: "2024-03-05T10:00:00Z" }) });
    const b = room({ roomId: "b", name: "Amy", lastMessage: msg({ createdAt: "2024-03-06T10:00:00Z" }) });
    const c = room({ roomId: "c", name: "Bea" });
    const d = room({ roomId: "d", name: "Al" });
    expect(sortRooms([a, c, b, d], ME).map((r) => r.roomId)).toEqual(["b", "a", "d", "c"]);
  });
});

describe("moveReadPointer", () => {
  const r = room({ lastSeq: 10, myReadSeq: 4, unreadCount: 6, members: [member("alice", { lastReadSeq: 4 }), member("bob", { lastReadSeq: 3 })] });
  it("moves a member's pointer forward, never back", () => {
    expect(moveReadPointer(r, "bob", 8).members[1]?.lastReadSeq).toBe(8);
    expect(moveReadPointer(r, "bob", 2).members[1]?.lastReadSeq).toBe(3);
  });
  it("leaves the user's own counts to the client core", () => {
    const read = moveReadPointer(r, ME, 10);
    expect(read.members[0]?.lastReadSeq).toBe(10);
    expect(read.myReadSeq).toBe(4);
    expect(read.unreadCount).toBe(6);
  });
});

describe("withCounts", () => {
  it("takes the preview and numbers as reported, keeping the rest of the room", () => {
    const r = room({ name: "Team", lastSeq: 10, myReadSeq: 4, unreadCount: 6 });
    const last = msg({ localId: 11, seq: 11 });
    const next = withCounts(r, { roomId: "r1", lastSeq: 11, myReadSeq: 11, unreadCount: 0, mentionCount: 0, lastMessage: last });
    expect(next).toMatchObject({ name: "Team", lastSeq: 11, myReadSeq: 11, unreadCount: 0, lastMessage: last });
    expect(next.members).toBe(r.members);
  });
});

describe("applyPresence", () => {
  it("updates a member's status and keeps the last known time if none came", () => {
    const r = room({ members: [member("alice"), member("bob", { lastSeen: "2024-03-05T10:00:00Z" })] });
    const next = applyPresence(r, "bob", "online", null);
    expect(next?.members[1]).toMatchObject({ status: "online", lastSeen: "2024-03-05T10:00:00Z" });
  });
  it("leaves rooms the user is not in alone", () => {
    expect(applyPresence(room(), "zoe", "online", null)).toBeNull();
  });
});

describe("roomHeader", () => {
  const now = new Date(2024, 2, 13, 15, 30);
  it("shows a direct partner's presence and initials", () => {
    const online = room({ members: [member("alice"), member("bob", { displayName: "Bob Stone", status: "online" })] });
    expect(roomHeader(online, ME, now)).toEqual({ title: "Bob Stone", subtitle: "online", avatar: "BS", avatarUrl: null, online: true });
    const away = room({ members: [member("alice"), member("bob", { status: "offline", lastSeen: new Date(2024, 2, 13, 15, 25).toISOString() })] });
    expect(roomHeader(away, ME, now)).toMatchObject({ subtitle: "last seen 5 min ago", online: false });
  });
  it("falls back to Direct chat with no dot when presence is unknown", () => {
    expect(roomHeader(room(), ME, now)).toMatchObject({ subtitle: "Direct chat", online: null });
  });
  it("counts a group's members and who else is online", () => {
    const g = room({ type: "group", name: "Team", members: [member("alice", { status: "online" }), member("bob", { status: "online" }), member("carol")] });
    expect(roomHeader(g, ME, now)).toEqual({ title: "Team", subtitle: "3 members, 1 online", avatar: "#", avatarUrl: null, online: null });
    expect(roomHeader(room({ type: "group", name: "Solo", members: [member("alice")] }), ME, now).subtitle).toBe("1 member");
  });
});

describe("typistName", () => {
  it("names a typist as the room shows its members", () => {
    const r = room({ type: "group", members: [member("alice"), member("carol", { userName: "carol", displayName: "Carol Diaz" })] });
    expect(typistName(r, "carol", "carol")).toBe("Carol Diaz");
  });

  it("falls back to the login name from the event for someone the room does not list yet", () => {
    expect(typistName(room(), "zoe", "zoe")).toBe("zoe");
    expect(typistName(undefined, "zoe", "zoe")).toBe("zoe");
    expect(typistName(undefined, "u-zoe", "")).toBe("u-zoe");
  });
});

describe("pictures", () => {
  it("finds the file of a user's picture in its URL", () => {
    expect(avatarFileId("/api/files/01a2-b3")).toBe("01a2-b3");
    expect(avatarFileId("https://chat.example.com/api/files/01a2-b3/thumbnail")).toBe("01a2-b3");
    expect(avatarFileId("https://elsewhere.example/me.png")).toBeNull();
    expect(avatarFileId(null)).toBeNull();
    expect(avatarFileId("")).toBeNull();
  });

  it("puts a direct room's partner's picture in the header, none for a group", () => {
    const direct = room({ members: [member("alice"), member("bob", { avatarUrl: "/api/files/f1" })] });
    expect(roomHeader(direct, "alice", new Date()).avatarUrl).toBe("/api/files/f1");
    const group = room({ type: "group", name: "team", members: [member("alice"), member("bob", { avatarUrl: "/api/files/f1" })] });
    expect(roomHeader(group, "alice", new Date()).avatarUrl).toBeNull();
  });
});
