// A fake shell for developing the UI in a plain browser (`npm run dev`, then
// open http://localhost:1420/?mock). It keeps a few rooms in memory, answers
// every command the real shell has (a `Record<Command, …>`, so a command
// added to the shell's list and missing here fails the typecheck), and plays
// the events the client core would send: the user's own changes at once
// (origin "local"), then acks, read receipts, replies with typing, presence,
// uploads with progress; each message event with the room's counts as the
// mock's data has them. Files are fake: the picker always offers the same two (a
// name with "fail" in it is refused), pictures are drawn on a canvas as data
// URLs; dropped and pasted files are the real ones (blob URLs). Only loaded
// in development; the production build never includes it.

import type { Backend, FileDrag } from "../tauri";
import { NO_KEYRING } from "../tauri";
import { parseQuery, wordSpans } from "../logic/search";
import type { Attachment, Ban, Block, ClientEvent, Command, DeviceInfo, RoomInvite, MemberView, MessageChange, MessageView, NotifyLevel, Origin, RoomCounts, RoomView, User } from "../types";

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

/** A stored fake file: a picture drawn on demand, or a real dropped/pasted blob. */
interface MockFile {
  name: string;
  mime: string;
  size: number;
  width: number | null;
  height: number | null;
  /** A real file's blob URL. */
  blobUrl?: string;
  /** A drawn picture's colour. */
  hue?: number;
}

const MIMES: Record<string, string> = { png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif", webp: "image/webp", pdf: "application/pdf", txt: "text/plain", zip: "application/zip" };
const mimeOf = (name: string): string => MIMES[name.split(".").pop()?.toLowerCase() ?? ""] ?? "application/octet-stream";

/** A picture drawn on a canvas, as a PNG data URL, at most `max` px a side. */
function drawPicture(f: MockFile, max: number): string {
  const w0 = f.width ?? 800;
  const h0 = f.height ?? 600;
  const scale = Math.min(1, max / w0, max / h0);
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(w0 * scale));
  canvas.height = Math.max(1, Math.round(h0 * scale));
  const g = canvas.getContext("2d");
  if (!g) return "";
  const grad = g.createLinearGradient(0, 0, canvas.width, canvas.height);
  grad.addColorStop(0, `hsl(${f.hue ?? 210} 70% 55%)`);
  grad.addColorStop(1, `hsl(${((f.hue ?? 210) + 60) % 360} 70% 35%)`);
  g.fillStyle = grad;
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.fillStyle = "rgb(255 255 255 / 0.9)";
  g.font = `${Math.max(12, Math.round(canvas.width / 14))}px system-ui, sans-serif`;
  g.textAlign = "center";
  g.fillText(`${f.name} (${w0}×${h0})`, canvas.width / 2, canvas.height / 2, canvas.width - 16);
  return canvas.toDataURL("image/png");
}

/** Real files dropped on the page in the mock, by the fake path given for them. */
const dropped = new Map<string, File>();

/** A fake backend with sample data; `?mock&fresh` starts signed out. */
export function mockBackend(): Backend {
  const handlers = new Set<(payload: unknown) => void>();
  const emit = (ev: ClientEvent): void => {
    for (const h of handlers) h(structuredClone(ev));
  };
  let signedIn = !new URLSearchParams(location.search).has("fresh");
  let nextLocal = 10_000;
  const rooms = new Map<string, MockRoom>();
  let notifyDefault: NotifyLevel = "all";
  let me: User = { ...ME };
  let blocked: Block[] = [];
  let devices: DeviceInfo[] = [
    { deviceId: "d-this", name: "LeetChat desktop", createdAt: new Date(Date.now() - 9 * 86_400_000).toISOString(), online: true, current: true },
    { deviceId: "d-phone", name: "Pixel 8", createdAt: new Date(Date.now() - 40 * 86_400_000).toISOString(), lastActiveAt: new Date(Date.now() - 2 * 86_400_000).toISOString(), online: false, current: false },
  ];
  let invites: RoomInvite[] = [];
  const bans = new Map<string, Ban[]>();
  const files = new Map<string, MockFile>();
  const drawn = new Map<string, string>();
  let nextFile = 1;

  const storeFile = (f: MockFile): Attachment => {
    const fileId = `f-${nextFile++}`;
    files.set(fileId, f);
    const image = f.mime.startsWith("image/");
    return {
      fileId,
      name: f.name,
      mime: f.mime,
      size: f.size,
      width: f.width,
      height: f.height,
      url: `/api/files/${fileId}`,
      thumbnailUrl: image ? `/api/files/${fileId}/thumbnail` : null,
    };
  };

  const member = (u: User, lastReadSeq = 0, status: string | null = "offline"): MemberView => ({
    userId: u.userId,
    userName: u.userName,
    displayName: u.displayName,
    role: "member",
    lastReadSeq,
    status,
    lastSeen: new Date(Date.now() - 17 * 60_000).toISOString(),
    avatarUrl: u.avatarUrl ?? null,
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
    replyPreview: null,
    reactions: [],
    mentions: [],
    mentionsRoom: false,
    linkPreview: null,
    createdAt: at.toISOString(),
    editedAt: null,
    deletedAt: null,
    delivery: sender === ME.userId ? "read" : "sent",
    error: null,
    waiting: null,
    retryAt: null,
    island: false,
  });

  /** A room's preview and numbers, counted from its messages as the core's store would. */
  const counts = (r: MockRoom): RoomCounts => {
    let lastSeq = 0;
    let unreadCount = 0;
    for (const m of r.all) {
      if (m.seq === null) continue;
      lastSeq = Math.max(lastSeq, m.seq);
      if (m.seq > r.view.myReadSeq && m.senderId !== ME.userId && m.deletedAt === null) unreadCount++;
    }
    return { roomId: r.view.roomId, lastSeq, myReadSeq: r.view.myReadSeq, unreadCount, mentionCount: 0, lastMessage: r.all[r.all.length - 1] ?? null };
  };
  /** Brings the room's view in line with its messages; returns its counts. */
  const recount = (r: MockRoom): RoomCounts => {
    const c = counts(r);
    r.view = { ...r.view, lastSeq: c.lastSeq, unreadCount: c.unreadCount, lastMessage: c.lastMessage };
    return c;
  };

  const addRoom = (
    view: Omit<RoomView, "lastSeq" | "lastMessage" | "unreadCount" | "myReadSeq" | "hasOlder" | "mentionCount" | "pinnedMessageIds" | "notifyLevel" | "muteUntil" | "notifyFollowsDefault">,
    all: MessageView[],
    unread: number,
  ): MockRoom => {
    const last = all[all.length - 1] ?? null;
    const r: MockRoom = {
      view: {
        ...view,
        lastSeq: last?.seq ?? 0,
        lastMessage: last,
        unreadCount: unread,
        myReadSeq: (last?.seq ?? 0) - unread,
        hasOlder: all.length > 40,
        mentionCount: 0,
        pinnedMessageIds: [],
        notifyLevel: "all",
        muteUntil: null,
        notifyFollowsDefault: true,
      },
      all,
      loaded: Math.min(all.length, 40),
    };
    recount(r);
    rooms.set(view.roomId, r);
    return r;
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
  const withFile = (m: MessageView, f: MockFile): MessageView => ({
    ...m,
    type: f.mime.startsWith("image/") ? "image" : "file",
    attachments: [storeFile(f)],
  });
  addRoom(
    {
      roomId: "g-team",
      type: "group",
      name: "Team",
      description: "Work chat",
      members: [{ ...member(ME, 1), role: "owner" }, { ...member(bob, 3, "online"), role: "admin" }, member(carol, 3), member(PEOPLE[2] as User, 2)],
    },
    [
      message("g-team", 1, bob.userId, "Standup in 5", new Date(Date.now() - 3600_000)),
      message("g-team", 2, carol.userId, "On my way", new Date(Date.now() - 3500_000)),
      message("g-team", 3, "u-dave", "Same", new Date(Date.now() - 3400_000)),
      withFile(message("g-team", 4, bob.userId, "Today's plan", new Date(Date.now() - 3300_000)), {
        name: "whiteboard.jpg", mime: "image/jpeg", size: 1_843_200, width: 1600, height: 1200, hue: 200,
      }),
      withFile(message("g-team", 5, carol.userId, "", new Date(Date.now() - 3200_000)), {
        name: "Q3-report.pdf", mime: "application/pdf", size: 1_310_720, width: null, height: null,
      }),
      withFile(message("g-team", 6, "u-dave", "", new Date(Date.now() - 3100_000)), {
        name: "poster.png", mime: "image/png", size: 734_003, width: 1080, height: 1920, hue: 20,
      }),
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
  /** Stores a message (new or changed) and tells the UI, with the room's counts after it. */
  const upsert = (m: MessageView, change: MessageChange, origin: Origin): void => {
    const r = room(m.roomId);
    const i = r.all.findIndex((x) => x.localId === m.localId);
    if (i >= 0) r.all[i] = m;
    else {
      r.all.push(m);
      r.loaded++;
    }
    emit({ kind: "message_upserted", message: m, change, origin, room: recount(r) });
  };
  /** A message as the store has it now (it may have been edited, deleted or withdrawn meanwhile). */
  const current = (m: MessageView): MessageView | undefined => rooms.get(m.roomId)?.all.find((x) => x.localId === m.localId);
  /** The outbox sends a pending message: it gets its seq. */
  const ack = (m: MessageView, over: Partial<MessageView> = {}): void => {
    const now = current(m);
    if (!now) return;
    const seq = room(m.roomId).view.lastSeq + 1;
    upsert({ ...now, seq, messageId: `m-${m.roomId}-${seq}`, delivery: "sent", ...over }, "delivery", "acked");
  };

  const reply = async (roomId: string): Promise<void> => {
    const r = room(roomId);
    const other = r.view.members.find((m) => m.userId !== ME.userId);
    if (!other) return;
    await delay(1200);
    const seqRead = r.view.lastSeq;
    r.view = { ...r.view, members: r.view.members.map((m) => (m.userId === other.userId ? { ...m, lastReadSeq: seqRead } : m)) };
    emit({ kind: "receipt", roomId, userId: other.userId, seq: seqRead, room: counts(r) });
    emit({ kind: "typing", roomId, userId: other.userId, userName: other.displayName, isTyping: true });
    await delay(2500);
    const seq = r.view.lastSeq + 1;
    upsert(message(roomId, seq, other.userId, "Got it 👍", new Date()), "new", "live");
  };

  /**
   * Queues a file like the shell: pending at once with a local preview,
   * then upload progress, then acked with the uploaded attachment (or
   * refused when the name contains "fail").
   */
  const queueFile = (roomId: string, file: MockFile, caption: string): MessageView => {
    room(roomId); // refuses an unknown room
    const tempId = crypto.randomUUID();
    const preview: Attachment = { fileId: "", name: file.name, mime: file.mime, size: file.size, width: null, height: null, url: "", thumbnailUrl: null };
    const pending: MessageView = {
      ...message(roomId, 0, ME.userId, caption, new Date()),
      type: file.mime.startsWith("image/") ? "image" : "file",
      attachments: [preview],
      seq: null,
      messageId: null,
      tempId,
      delivery: "pending",
    };
    upsert(pending, "new", "local");
    void (async () => {
      const steps = 15;
      for (let i = 1; i <= steps; i++) {
        await delay(150);
        // Withdrawn (deleted while pending): the upload stops.
        const now = current(pending);
        if (!now) return;
        emit({ kind: "upload_progress", roomId, tempId, name: file.name, sent: Math.round((file.size * i) / steps), total: file.size });
        if (i === 8 && file.name.includes("fail")) {
          const reason = "The server refused the file: its type is not allowed.";
          // As the core: the message's change first, then the outbox's word.
          upsert({ ...now, delivery: "failed", error: reason }, "delivery", "acked");
          emit({ kind: "outbox_failed", roomId, tempId, reason });
          return;
        }
      }
      await delay(300);
      ack(pending, { attachments: [storeFile(file)] });
    })();
    return pending;
  };

  /** A real blob as a fake file (measured when it is a picture). */
  const realFile = async (name: string, blob: Blob): Promise<MockFile> => {
    const mime = blob.type || mimeOf(name);
    const f: MockFile = { name, mime, size: blob.size, width: null, height: null, blobUrl: URL.createObjectURL(blob) };
    if (mime.startsWith("image/")) {
      try {
        const bmp = await createImageBitmap(blob);
        f.width = bmp.width;
        f.height = bmp.height;
        bmp.close();
      } catch {
        // Not a picture after all: it stays a file.
      }
    }
    return f;
  };

  const commands: Record<Command, (a: Record<string, unknown>) => unknown> = {
    session: () => (signedIn ? { userId: ME.userId, userName: ME.userName, server: "http://localhost:3001" } : null),
    suggested_server: () => null,
    about: () => ({ version: "dev", license: "MIT" }),
    sign_in: (a) => {
      if (a.password === "wrong") throw "Wrong user name or password.";
      if (a.userName === "nokeyring" && !a.useFileStore) throw `${NO_KEYRING} no OS keyring is available (the dev mock has none for "nokeyring").`;
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
    message: (a) => {
      for (const r of rooms.values()) {
        const m = r.all.find((x) => x.messageId === a.key || x.tempId === a.key || String(x.localId) === a.key);
        if (m) return m;
      }
      return null;
    },
    load_older: (a) => {
      const r = room(a.roomId);
      const n = Math.min(50, r.all.length - r.loaded);
      r.loaded += n;
      r.view = { ...r.view, hasOlder: r.loaded < r.all.length };
      // The fetched history comes as events, as the core's does.
      const c = counts(r);
      for (const m of visible(r).slice(0, n)) emit({ kind: "message_upserted", message: m, change: "new", origin: "history", room: c });
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
      upsert(pending, "new", "local");
      setTimeout(() => {
        if (!current(pending)) return;
        ack(pending);
        void reply(r.view.roomId);
      }, 500);
      return pending;
    },
    send_message: (a) => {
      const sent = commands.send_text(a) as MessageView;
      const original = a.replyTo ? find(String(a.replyTo)) : undefined;
      const next: MessageView = {
        ...sent,
        replyTo: original?.messageId ?? null,
        replyPreview: original?.messageId
          ? { messageId: original.messageId, senderId: original.senderId, type: original.type, content: original.content.slice(0, 200), deletedAt: original.deletedAt }
          : null,
        mentions: (a.mentions as string[] | undefined) ?? [],
        mentionsRoom: Boolean(a.mentionsRoom),
      };
      upsert(next, "new", "local");
      return next;
    },
    react: (a) => {
      const m = find(String(a.key));
      if (!m) throw "No such message.";
      const emoji = String(a.emoji);
      const add = Boolean(a.add);
      const list = m.reactions.map((r) => ({ ...r, userIds: [...r.userIds] }));
      let r = list.find((x) => x.emoji === emoji);
      if (add && !r) {
        r = { emoji, count: 0, userIds: [], mine: false, pending: false };
        list.push(r);
      }
      if (r) {
        r.userIds = r.userIds.filter((u) => u !== ME.userId);
        if (add) r.userIds.push(ME.userId);
        r.count = r.userIds.length;
        r.mine = add;
      }
      const next = { ...m, reactions: list.filter((x) => x.count > 0) };
      upsert(next, "reactions", "local");
      return next;
    },
    pin_message: (a) => {
      const m = find(String(a.key));
      if (!m?.messageId) throw "No such message.";
      const r = room(m.roomId);
      const rest = r.view.pinnedMessageIds.filter((id) => id !== m.messageId);
      r.view = { ...r.view, pinnedMessageIds: a.pin ? [m.messageId, ...rest] : rest };
      emit({ kind: "room_updated", room: r.view });
      return r.view;
    },
    set_room_notify: (a) => {
      const r = room(String(a.roomId));
      const level = String(a.level);
      const follows = level === "default";
      r.view = {
        ...r.view,
        notifyLevel: (follows ? notifyDefault : level) as NotifyLevel,
        notifyFollowsDefault: follows,
        muteUntil: a.changeMute ? ((a.muteUntil as string | null) ?? null) : r.view.muteUntil,
      };
      emit({ kind: "room_updated", room: r.view });
      return r.view;
    },
    notify_default: () => notifyDefault,
    set_notify_default: (a) => {
      notifyDefault = a.level as NotifyLevel;
      for (const r of rooms.values()) {
        if (r.view.notifyFollowsDefault) {
          r.view = { ...r.view, notifyLevel: notifyDefault };
          emit({ kind: "room_updated", room: r.view });
        }
      }
      emit({ kind: "notify_default", level: notifyDefault });
      return notifyDefault;
    },
    open_link: (a) => {
      window.open(String(a.url), "_blank", "noopener");
    },
    // Web Push is driven by the mobile builds' native side; this mock has none.
    push_register: () => {
      throw "Push notifications need the Android or iOS app.";
    },
    push_unregister: () => undefined,
    push_received: () => {
      throw "Push notifications need the Android or iOS app.";
    },
    edit_message: (a) => {
      const m = find(String(a.key));
      if (!m) throw "No such message.";
      const next = { ...m, content: String(a.content), editedAt: new Date().toISOString() };
      upsert(next, "edited", "local");
      if (next.seq !== null) setTimeout(() => current(next) && upsert({ ...(current(next) as MessageView) }, "edited", "acked"), 300);
      return next;
    },
    delete_message: (a) => {
      const m = find(String(a.key));
      if (!m) throw "No such message.";
      const r = room(m.roomId);
      if (m.seq === null) {
        // Still in the outbox: withdrawn, it never reaches the server.
        r.all = r.all.filter((x) => x.localId !== m.localId);
        r.loaded--;
        emit({ kind: "message_removed", roomId: r.view.roomId, localId: m.localId, room: recount(r) });
        return;
      }
      const gone = { ...m, content: "", attachments: [], deletedAt: new Date().toISOString() };
      upsert(gone, "deleted", "local");
      setTimeout(() => current(gone) && upsert({ ...(current(gone) as MessageView) }, "deleted", "acked"), 100);
    },
    mark_read: (a) => {
      const r = room(a.roomId);
      r.view = { ...r.view, myReadSeq: Math.max(r.view.myReadSeq, Number(a.seq)) };
      recount(r);
      // As the core: the room, with its numbers, once the server took the pointer.
      setTimeout(() => emit({ kind: "room_updated", room: r.view }), 50);
    },
    pick_files: () => ["/home/me/Pictures/mountains.png", "/home/me/Documents/notes.pdf"],
    send_file: async (a) => {
      const path = String(a.path);
      const name = path.split(/[\\/]/).pop() || "file";
      const real = dropped.get(path);
      const file: MockFile = real
        ? await realFile(name, real)
        : { name, mime: mimeOf(name), size: name.endsWith(".pdf") ? 184_320 : 2_516_582, width: 2400, height: 1600, hue: (nextFile * 47) % 360 };
      if (!file.mime.startsWith("image/")) {
        file.width = null;
        file.height = null;
      }
      return queueFile(String(a.roomId), file, String(a.caption ?? ""));
    },
    send_file_bytes: async (a) => {
      const bytes = a.bytes as number[];
      if (bytes.length === 0 || bytes.length > 25 * 1024 * 1024) throw "pasted data must be between 1 byte and 26214400 bytes";
      const name = String(a.name);
      const file = await realFile(name, new Blob([new Uint8Array(bytes)], { type: mimeOf(name) }));
      return queueFile(String(a.roomId), file, String(a.caption ?? ""));
    },
    // The browser has no OS clipboard to read: a paste without an image file is nothing.
    clipboard_image: () => {
      throw "no image on the clipboard";
    },
    file_preview: (a) => {
      const path = String(a.path);
      const name = path.split(/[\\/]/).pop() || "file";
      const real = dropped.get(path);
      return { name, size: real ? real.size : name.endsWith(".pdf") ? 184_320 : 2_516_582, thumbnail: null };
    },
    file_path: (a) => {
      const f = files.get(String(a.fileId));
      if (!f) throw "No such file.";
      if (f.blobUrl) return f.blobUrl;
      if (!f.mime.startsWith("image/")) return `data:${f.mime},fake`;
      const key = `${a.thumbnail ? "t" : "f"}:${String(a.fileId)}`;
      let url = drawn.get(key);
      if (!url) {
        url = drawPicture(f, a.thumbnail ? 480 : 2400);
        drawn.set(key, url);
      }
      return url;
    },
    save_file: (a) => {
      const f = files.get(String(a.fileId));
      if (!f) throw "No such file.";
      return `/home/me/Downloads/${f.name}`;
    },
    set_typing: () => undefined,
    set_active_room: () => undefined,
    set_unread: (a) => {
      const n = Number(a.count);
      document.title = n > 0 ? `(${n}) LeetChat` : "LeetChat";
    },
    search_messages: (a) => {
      const query = parseQuery(String(a.query));
      if (!query) throw "query has no letters or digits to search for";
      const hits: MessageView[] = [];
      for (const r of rooms.values()) {
        for (const m of r.all) {
          if (m.deletedAt !== null) continue;
          const words = wordSpans(m.content).map((w) => w.word);
          const ok = query.whole.every((w) => words.includes(w)) && words.some((w) => w.startsWith(query.prefix));
          if (ok) hits.push({ ...m, island: r.all.indexOf(m) < r.all.length - r.loaded });
        }
      }
      hits.sort((x, y) => y.createdAt.localeCompare(x.createdAt));
      return { results: hits.slice(0, Number(a.limit)), nextCursor: null, fromServer: true };
    },
    message_context: (a) => {
      for (const r of rooms.values()) {
        const at = r.all.findIndex((m) => m.messageId === a.messageId);
        if (at < 0) continue;
        const n = Number(a.around);
        const from = Math.max(0, at - n);
        const to = Math.min(r.all.length, at + n + 1);
        return {
          roomId: r.view.roomId,
          messageId: String(a.messageId),
          messages: r.all.slice(from, to).map((m) => ({ ...m, island: true })),
          hasOlder: from > 0,
          hasNewer: to < r.all.length - r.loaded,
        };
      }
      throw "No such message.";
    },
    search_users: (a) => {
      const q = String(a.query).toLowerCase();
      return [ME, ...PEOPLE].filter((u) => u.userName.includes(q) || u.displayName.toLowerCase().includes(q));
    },
    create_direct: (a) => {
      const u = PEOPLE.find((p) => p.userId === a.userId);
      if (!u) throw "No such user.";
      const id = `direct_${u.userName}`;
      if (!rooms.has(id)) {
        const r = addRoom({ roomId: id, type: "direct", name: "", description: "", members: [member(ME), member(u)] }, [], 0);
        emit({ kind: "room_updated", room: r.view });
      }
      return room(id).view;
    },
    create_group: (a) => {
      const id = `g-${Date.now()}`;
      const ids = a.memberIds as string[];
      const r = addRoom(
        { roomId: id, type: "group", name: String(a.name), description: "", members: [{ ...member(ME), role: "owner" }, ...PEOPLE.filter((p) => ids.includes(p.userId)).map((p) => member(p))] },
        [],
        0,
      );
      emit({ kind: "room_updated", room: r.view });
      return r.view;
    },
    // ---- running a community: profile, account, groups ----
    profile: () => me,
    update_profile: (a) => {
      if (typeof a.displayName === "string") me = { ...me, displayName: a.displayName };
      if (typeof a.avatarPath === "string") {
        const name = a.avatarPath.split(/[\\/]/).pop() || "avatar.png";
        const att = storeFile({ name, mime: "image/png", size: 40_000, width: 256, height: 256, hue: 300 });
        me = { ...me, avatarUrl: att.url };
      } else if (a.removeAvatar) me = { ...me, avatarUrl: undefined };
      for (const r of rooms.values()) {
        r.view = { ...r.view, members: r.view.members.map((m) => (m.userId === me.userId ? { ...m, displayName: me.displayName, avatarUrl: me.avatarUrl ?? null } : m)) };
        emit({ kind: "room_updated", room: r.view });
      }
      return me;
    },
    known_users: (a) => [me, ...PEOPLE].filter((u) => (a.userIds as string[]).includes(u.userId)),
    blocks: () => blocked,
    block: (a) => {
      const id = String(a.userId);
      if (id === me.userId) throw "server refused: you cannot block yourself (invalid)";
      blocked = blocked.filter((b) => b.userId !== id);
      if (a.block) blocked = [{ userId: id, blockedAt: new Date().toISOString() }, ...blocked];
      return blocked;
    },
    devices: () => devices,
    sign_out_device: (a) => {
      devices = devices.filter((d) => d.deviceId !== a.deviceId || d.current);
    },
    export_data: () => `/home/me/Downloads/leetchat-${me.userName}-${new Date().toISOString().slice(0, 10)}.json`,
    delete_account: (a) => {
      if (a.password !== "secret") throw "server refused: the password is wrong; the account was not deleted (forbidden)";
      signedIn = false;
    },
    update_room: (a) => {
      const r = room(a.roomId);
      r.view = { ...r.view, name: typeof a.name === "string" ? a.name : r.view.name, description: typeof a.description === "string" ? a.description : r.view.description };
      emit({ kind: "room_updated", room: r.view });
      return r.view;
    },
    add_members: (a) => {
      const r = room(a.roomId);
      const ids = a.userIds as string[];
      const added = PEOPLE.filter((p) => ids.includes(p.userId) && !r.view.members.some((m) => m.userId === p.userId));
      r.view = { ...r.view, members: [...r.view.members, ...added.map((p) => member(p))] };
      emit({ kind: "room_updated", room: r.view });
      return r.view;
    },
    remove_member: (a) => {
      const r = room(a.roomId);
      if (a.userId === me.userId) {
        rooms.delete(r.view.roomId);
        emit({ kind: "room_removed", roomId: r.view.roomId });
        return;
      }
      r.view = { ...r.view, members: r.view.members.filter((m) => m.userId !== a.userId) };
      emit({ kind: "room_updated", room: r.view });
    },
    set_member_role: (a) => {
      const r = room(a.roomId);
      const role = String(a.role) as MemberView["role"];
      r.view = {
        ...r.view,
        members: r.view.members.map((m) => (m.userId === a.userId ? { ...m, role } : role === "owner" && m.userId === me.userId ? { ...m, role: "admin" } : m)),
      };
      emit({ kind: "room_updated", room: r.view });
      return r.view;
    },
    create_invite: (a) => {
      const inv: RoomInvite = {
        code: Array.from(crypto.getRandomValues(new Uint8Array(24)), (b) => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[b % 64]).join(""),
        roomId: String(a.roomId),
        uses: 0,
        ...(typeof a.maxUses === "number" ? { maxUses: a.maxUses } : {}),
        ...(typeof a.expiresInS === "number" ? { expiresAt: new Date(Date.now() + a.expiresInS * 1000).toISOString() } : {}),
        createdBy: me.userId,
        createdAt: new Date().toISOString(),
      };
      invites.unshift(inv);
      return inv;
    },
    invites: (a) => invites.filter((i) => i.roomId === a.roomId),
    revoke_invite: (a) => {
      invites = invites.filter((i) => i.code !== a.code);
    },
    join_room: (a) => {
      const inv = invites.find((i) => i.code === a.code || String(a.code).endsWith(`code=${i.code}`));
      if (!inv) throw "server refused: no such invite (not_found)";
      return room(inv.roomId).view;
    },
    ban: (a) => {
      const r = room(a.roomId);
      bans.set(r.view.roomId, (bans.get(r.view.roomId) ?? []).filter((b) => b.userId !== a.userId));
      if (a.ban) {
        bans.get(r.view.roomId)?.unshift({ userId: String(a.userId), bannedBy: me.userId, bannedAt: new Date().toISOString(), ...(typeof a.reason === "string" ? { reason: a.reason } : {}) });
        r.view = { ...r.view, members: r.view.members.filter((m) => m.userId !== a.userId) };
        emit({ kind: "room_updated", room: r.view });
      }
    },
    bans: (a) => bans.get(String(a.roomId)) ?? [],
    report: (a) => {
      if (!find(String(a.messageId))) throw "server refused: no such message (not_found)";
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
    async invoke<T>(command: Command, args: Record<string, unknown> = {}): Promise<T> {
      await delay(80);
      return structuredClone(await commands[command](args)) as T;
    },
    async listen(event: string, handler: (payload: unknown) => void) {
      // Only client events are played; the mock never asks to open a room.
      if (event !== "client-event") return () => undefined;
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    // Paths from file_path are already URLs (data: or blob:).
    fileSrc: (path) => path,
    // The browser's own drag and drop stands in for the shell's; a dropped
    // file gets a fake path that send_file recognises.
    async onFileDrag(handler: (drag: FileDrag) => void) {
      let depth = 0;
      const files = (e: DragEvent): boolean => e.dataTransfer?.types.includes("Files") ?? false;
      const enter = (e: DragEvent): void => {
        if (!files(e)) return;
        e.preventDefault();
        if (depth++ === 0) handler({ type: "enter", paths: [], x: e.clientX, y: e.clientY });
      };
      const over = (e: DragEvent): void => {
        if (!files(e)) return;
        e.preventDefault();
        handler({ type: "over", x: e.clientX, y: e.clientY });
      };
      const leave = (e: DragEvent): void => {
        if (!files(e)) return;
        if (--depth <= 0) {
          depth = 0;
          handler({ type: "leave" });
        }
      };
      const drop = (e: DragEvent): void => {
        if (!files(e)) return;
        e.preventDefault();
        depth = 0;
        const paths = [...(e.dataTransfer?.files ?? [])].map((f) => {
          const path = `/dropped/${crypto.randomUUID()}/${f.name}`;
          dropped.set(path, f);
          return path;
        });
        handler({ type: "drop", paths, x: e.clientX, y: e.clientY });
      };
      window.addEventListener("dragenter", enter);
      window.addEventListener("dragover", over);
      window.addEventListener("dragleave", leave);
      window.addEventListener("drop", drop);
      return () => {
        window.removeEventListener("dragenter", enter);
        window.removeEventListener("dragover", over);
        window.removeEventListener("dragleave", leave);
        window.removeEventListener("drop", drop);
      };
    },
  };
}
