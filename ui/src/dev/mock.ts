// A fake shell for developing the UI in a plain browser (`npm run dev`, then
// open http://localhost:1420/?mock). It keeps a few rooms in memory, answers
// every command the real shell has, and plays the events a live server
// would cause: acks, read receipts, replies with typing, presence. Only
// loaded in development; the production build never includes it.

import type { Backend } from "../tauri";
import type { ClientEvent, MemberView, MessageView, RoomView, User } from "../types";

const ME: User = { userId: "u-me", userName: "me", displayName: "Me" };
const PEOPLE: User[] = [
  { userId: "u-bob", userName: "bob", displayName: "Bob Stone" },
  { userId: "u-carol", userName: "carol", displayName: "Carol Diaz" },
  { userId: "u-dave", userName: "dave", displayName: "Dave Kim" },
  { userId: "u-erin", userName: "erin", displayName: "Erin Wu" },
];

interface MockRoom {
  view: RoomView;
  /** Every message of the room; `loaded` of them (the newest) are "in the store". */
  all: MessageView[];
  loaded: number;
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fake backend with sample data; `?mock&fresh` starts signed out. */
export function mockBackend(): Backend {
  const handlers = new Set<(payload: unknown) => void>();
  const emit = (ev: ClientEvent): void => {
    for (const h of handlers) h(structuredClone(ev));
  };
  let signedIn = !new URLSearchParams(location.search).has("fresh");
  let nextLocal = 10_000;
  const rooms = new Map<string, MockRoom>();

  const member = (u: User, lastReadSeq = 0, status: string | null = "offline"): MemberView => ({
    userId: u.userId,
    userName: u.userName,
    displayName: u.displayName,
    role: "member",
    lastReadSeq,
    status,
    lastSeen: new Date(Date.now() - 17 * 60_000).toISOString(),
  });

  const message = (room: string, seq: number, sender: string, content: string, at: Date): MessageView => ({
    localId: nextLocal++,
    messageId: `m-${room}-${seq}`,
    roomId: room,
    seq,
    senderId: sender,
    tempId: null,
    type: "text",
    content,
    attachments: [],
    replyTo: null,
    createdAt: at.toISOString(),
    editedAt: null,
    deletedAt: null,
    delivery: sender === ME.userId ? "read" : "sent",
    error: null,
  });

  const addRoom = (view: Omit<RoomView, "lastSeq" | "lastMessage" | "unreadCount" | "myReadSeq" | "hasOlder">, all: MessageView[], unread: number): void => {
    const last = all[all.length - 1] ?? null;
    rooms.set(view.roomId, {
      view: {
        ...view,
        lastSeq: last?.seq ?? 0,
        lastMessage: last,
        unreadCount: unread,
        myReadSeq: (last?.seq ?? 0) - unread,
        hasOlder: all.length > 40,
      },
      all,
      loaded: Math.min(all.length, 40),
    });
  };

  // Bob: a long history over many days, to exercise paging and windowing.
  const bob = PEOPLE[0] as User;
  const carol = PEOPLE[1] as User;
  const bobMsgs: MessageView[] = [];
  const start = Date.now() - 9 * 24 * 3600_000;
  for (let i = 1; i <= 400; i++) {
    const at = new Date(start + i * 31 * 60_000);
    const sender = i % 3 === 0 ? ME.userId : bob.userId;
    bobMsgs.push(message("direct_bob", i, sender, i % 7 === 0 ? `Message ${i}\nwith a second line` : `Message ${i}`, at));
  }
  const edited = bobMsgs[395] as MessageView;
  edited.editedAt = new Date().toISOString();
  const deleted = bobMsgs[396] as MessageView;
  deleted.deletedAt = new Date().toISOString();
  deleted.content = "";
  addRoom(
    { roomId: "direct_bob", type: "direct", name: "", description: "", members: [member(ME, 400), member(bob, 398, "online")] },
    bobMsgs,
    2,
  );
  addRoom(
    { roomId: "direct_carol", type: "direct", name: "", description: "", members: [member(ME, 2), member(carol, 2)] },
    [
      message("direct_carol", 1, carol.userId, "Are we still on for Friday?", new Date(Date.now() - 2 * 24 * 3600_000)),
      message("direct_carol", 2, ME.userId, "Yes! 7pm.", new Date(Date.now() - 2 * 24 * 3600_000 + 600_000)),
    ],
    0,
  );
  addRoom(
    {
      roomId: "g-team",
      type: "group",
      name: "Team",
      description: "Work chat",
      members: [member(ME, 1), member(bob, 3, "online"), member(carol, 3), member(PEOPLE[2] as User, 2)],
    },
    [
      message("g-team", 1, bob.userId, "Standup in 5", new Date(Date.now() - 3600_000)),
      message("g-team", 2, carol.userId, "On my way", new Date(Date.now() - 3500_000)),
      message("g-team", 3, "u-dave", "Same", new Date(Date.now() - 3400_000)),
    ],
    2,
  );

  const room = (id: unknown): MockRoom => {
    const r = rooms.get(String(id));
    if (!r) throw new Error("No such room.");
    return r;
  };
  const visible = (r: MockRoom): MessageView[] => r.all.slice(r.all.length - r.loaded);
  const find = (key: string): MessageView | undefined => {
    for (const r of rooms.values()) {
      const m = r.all.find((x) => x.messageId === key || x.tempId === key || String(x.localId) === key);
      if (m) return m;
    }
    return undefined;
  };
  const upsert = (m: MessageView): void => {
    const r = room(m.roomId);
    const i = r.all.findIndex((x) => x.localId === m.localId);
    if (i >= 0) r.all[i] = m;
    else {
      r.all.push(m);
      r.loaded++;
    }
    if (m.seq !== null && m.seq > r.view.lastSeq) r.view = { ...r.view, lastSeq: m.seq };
    r.view = { ...r.view, lastMessage: r.all[r.all.length - 1] ?? null };
    emit({ kind: "message_upserted", message: m });
    emit({ kind: "room_updated", room: r.view });
  };

  const reply = async (roomId: string): Promise<void> => {
    const r = room(roomId);
    const other = r.view.members.find((m) => m.userId !== ME.userId);
    if (!other) return;
    await delay(1200);
    const seqRead = r.view.lastSeq;
    r.view = { ...r.view, members: r.view.members.map((m) => (m.userId === other.userId ? { ...m, lastReadSeq: seqRead } : m)) };
    emit({ kind: "receipt", roomId, userId: other.userId, seq: seqRead });
    emit({ kind: "typing", roomId, userId: other.userId, userName: other.displayName, isTyping: true });
    await delay(2500);
    const seq = r.view.lastSeq + 1;
    upsert(message(roomId, seq, other.userId, "Got it 👍", new Date()));
  };

  const commands: Record<string, (a: Record<string, unknown>) => unknown> = {
    session: () => (signedIn ? { userId: ME.userId, userName: ME.userName, server: "http://localhost:3001" } : null),
    sign_in: (a) => {
      if (a.password === "wrong") throw "Wrong user name or password.";
      signedIn = true;
      setTimeout(() => emit({ kind: "connection", state: "online" }), 300);
      return { userId: ME.userId, userName: String(a.userName) };
    },
    sign_out: () => {
      signedIn = false;
    },
    rooms: () => [...rooms.values()].map((r) => r.view),
    messages: (a) => {
      const list = visible(room(a.roomId));
      const before = typeof a.beforeSeq === "number" ? a.beforeSeq : Infinity;
      const acked = list.filter((m) => m.seq !== null && m.seq < before);
      const page = acked.slice(Math.max(0, acked.length - Number(a.limit)));
      return before === Infinity ? [...page, ...list.filter((m) => m.seq === null)] : page;
    },
    load_older: (a) => {
      const r = room(a.roomId);
      const n = Math.min(50, r.all.length - r.loaded);
      r.loaded += n;
      r.view = { ...r.view, hasOlder: r.loaded < r.all.length };
      return n;
    },
    send_text: (a) => {
      if (String(a.content).includes("fail")) throw "The server refused the message.";
      const r = room(a.roomId);
      const tempId = crypto.randomUUID();
      const pending: MessageView = {
        ...message(r.view.roomId, 0, ME.userId, String(a.content), new Date()),
        seq: null,
        messageId: null,
        tempId,
        delivery: "pending",
      };
      r.all.push(pending);
      r.loaded++;
      setTimeout(() => {
        const seq = r.view.lastSeq + 1;
        upsert({ ...pending, seq, messageId: `m-${r.view.roomId}-${seq}`, delivery: "sent" });
        void reply(r.view.roomId);
      }, 500);
      return pending;
    },
    edit_message: (a) => {
      const m = find(String(a.key));
      if (!m) throw "No such message.";
      const next = { ...m, content: String(a.content), editedAt: new Date().toISOString() };
      setTimeout(() => upsert(next), 0);
      return next;
    },
    delete_message: (a) => {
      const m = find(String(a.key));
      if (!m) throw "No such message.";
      setTimeout(() => upsert({ ...m, content: "", deletedAt: new Date().toISOString() }), 100);
    },
    mark_read: (a) => {
      const r = room(a.roomId);
      r.view = { ...r.view, myReadSeq: Number(a.seq), unreadCount: 0 };
    },
    set_typing: () => undefined,
    set_active_room: () => undefined,
    search_users: (a) => {
      const q = String(a.query).toLowerCase();
      return [ME, ...PEOPLE].filter((u) => u.userName.includes(q) || u.displayName.toLowerCase().includes(q));
    },
    create_direct: (a) => {
      const u = PEOPLE.find((p) => p.userId === a.userId);
      if (!u) throw "No such user.";
      const id = `direct_${u.userName}`;
      if (!rooms.has(id)) addRoom({ roomId: id, type: "direct", name: "", description: "", members: [member(ME), member(u)] }, [], 0);
      return room(id).view;
    },
    create_group: (a) => {
      const id = `g-${Date.now()}`;
      const ids = a.memberIds as string[];
      addRoom(
        { roomId: id, type: "group", name: String(a.name), description: "", members: [member(ME), ...PEOPLE.filter((p) => ids.includes(p.userId)).map((p) => member(p))] },
        [],
        0,
      );
      return room(id).view;
    },
  };

  // A little life: the connection comes up, people come and go.
  setTimeout(() => emit({ kind: "connection", state: "connecting" }), 50);
  setTimeout(() => emit({ kind: "connection", state: "syncing" }), 600);
  setTimeout(() => emit({ kind: "connection", state: "online" }), 1500);
  setInterval(() => {
    const carolOnline = Math.random() < 0.5;
    emit({ kind: "presence", userId: carol.userId, status: carolOnline ? "online" : "offline", lastSeen: new Date().toISOString() });
  }, 15_000);

  return {
    async invoke<T>(command: string, args: Record<string, unknown> = {}): Promise<T> {
      await delay(80);
      const run = commands[command];
      if (!run) throw `Unknown command ${command}`;
      return structuredClone(run(args)) as T;
    },
    async listen(_event: string, handler: (payload: unknown) => void) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
  };
}
