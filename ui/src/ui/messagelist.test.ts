// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { msg, pending, room } from "../logic/fixtures";
import { upsertMessage } from "../logic/messages";
import type { Attachment, MessageView, RoomView } from "../types";
import { MessageList, type ListContext } from "./messagelist";

const ctx = (over: Partial<ListContext> = {}): ListContext => ({
  myUserId: "me",
  room: undefined,
  readSeq: 0,
  progress: new Map(),
  ...over,
});
const images = (urls: Record<string, string> = {}) => ({
  peek: vi.fn((id: string, thumb: boolean) => urls[`${thumb ? "t" : "f"}:${id}`]),
  load: vi.fn(async (id: string, thumb: boolean) => `asset://${thumb ? "thumb" : "full"}/${id}`),
});
const handlers = (imgs = images()) => ({
  onNeedOlder: vi.fn(),
  onAtBottom: vi.fn(),
  onMenu: vi.fn(),
  images: imgs,
  onOpenImage: vi.fn(),
  onSaveFile: vi.fn(),
});
const many = (n: number): MessageView[] =>
  Array.from({ length: n }, (_, i) => msg({ localId: i + 1, seq: i + 1, senderId: i % 2 ? "me" : "bob" }));
const rowOf = (list: MessageList, localId: number) => list.el.querySelector<HTMLElement>(`.row[data-id="${localId}"]`);

/** Gives the scroll container a fixed geometry happy-dom does not lay out. */
const geometry = (list: MessageList, g: { scrollHeight: number; clientHeight: number }) => {
  Object.defineProperty(list.el, "scrollHeight", { configurable: true, get: () => g.scrollHeight });
  Object.defineProperty(list.el, "clientHeight", { configurable: true, get: () => g.clientHeight });
  let top = 0;
  Object.defineProperty(list.el, "scrollTop", {
    configurable: true,
    get: () => top,
    set: (v: number) => {
      top = Math.max(0, Math.min(v, g.scrollHeight - g.clientHeight));
    },
  });
};

describe("MessageList", () => {
  it("renders only the newest window of a long history", () => {
    const list = new MessageList(handlers());
    list.reset(many(1000), ctx(), true);
    expect(list.renderedCount).toBe(120);
    expect(rowOf(list, 1000)).not.toBeNull();
    expect(rowOf(list, 880)).toBeNull();
  });

  it("updates one message without recreating the other rows", () => {
    const list = new MessageList(handlers());
    const before = many(5);
    list.reset(before, ctx(), false);
    const untouched = rowOf(list, 2);
    const untouchedChild = untouched?.firstElementChild;
    const editedRow = rowOf(list, 3);
    const { list: after } = upsertMessage(before, msg({ localId: 3, seq: 3, content: "changed", editedAt: "2024-03-05T11:00:00Z" }));
    list.update(after, ctx());
    expect(rowOf(list, 2)).toBe(untouched);
    expect(rowOf(list, 2)?.firstElementChild).toBe(untouchedChild);
    expect(rowOf(list, 3)).toBe(editedRow);
    expect(editedRow?.textContent).toContain("changed");
    expect(editedRow?.querySelector(".edited")?.textContent).toBe("edited");
  });

  it("moves an acked pending message to its place and keeps DOM order = list order", () => {
    const list = new MessageList(handlers());
    const start = [msg({ localId: 1, seq: 1 }), pending(2, { senderId: "me" }), pending(3, { senderId: "me" })];
    list.reset(start, ctx(), false);
    const row3 = rowOf(list, 3);
    const { list: after } = upsertMessage(start, msg({ localId: 3, seq: 2, senderId: "me", tempId: "t3" }));
    list.update(after, ctx());
    const ids = [...list.el.querySelectorAll<HTMLElement>(".row")].map((r) => Number(r.dataset.id));
    expect(ids).toEqual([1, 3, 2]);
    expect(rowOf(list, 3)).toBe(row3);
    expect(row3?.querySelector(".mark")?.textContent).toBe("✓");
  });

  it("shows tombstones, day separators and read marks", () => {
    const list = new MessageList(handlers());
    list.reset(
      [
        msg({ localId: 1, seq: 1, senderId: "me", createdAt: "2024-03-04T10:00:00Z" }),
        msg({ localId: 2, seq: 2, senderId: "bob", createdAt: "2024-03-05T10:00:00Z", deletedAt: "2024-03-05T11:00:00Z", content: "" }),
      ],
      ctx({ readSeq: 1 }),
      false,
    );
    expect(list.el.querySelectorAll(".day-sep")).toHaveLength(2);
    expect(rowOf(list, 1)?.querySelector(".mark")?.textContent).toBe("✓✓");
    expect(rowOf(list, 2)?.textContent).toContain("This message was deleted");
    expect(rowOf(list, 2)?.querySelector(".msg-menu-btn")).toBeNull();
    expect(rowOf(list, 1)?.querySelector(".msg-menu-btn")?.getAttribute("aria-label")).toBe("Message actions");
  });

  it("removes a withdrawn message's row", () => {
    const list = new MessageList(handlers());
    const start = [msg({ localId: 1 }), pending(2, { senderId: "me" })];
    list.reset(start, ctx(), false);
    list.update([start[0] as MessageView], ctx());
    expect(rowOf(list, 2)).toBeNull();
    expect(list.renderedCount).toBe(1);
  });
});

const photo = (over: Partial<Attachment> = {}): Attachment => ({
  fileId: "f1",
  name: "cat.png",
  mime: "image/png",
  size: 2_000_000,
  width: 1600,
  height: 1200,
  url: "/api/files/f1",
  thumbnailUrl: "/api/files/f1/thumbnail",
  ...over,
});
const pdf: Attachment = { fileId: "f2", name: "report.pdf", mime: "application/pdf", size: 1.2 * 1024 * 1024, url: "/api/files/f2" };

/** An IntersectionObserver that reports every observed element as visible at once. */
class EagerObserver {
  static observed: Element[] = [];
  constructor(private readonly cb: IntersectionObserverCallback) {}
  observe(el: Element): void {
    EagerObserver.observed.push(el);
    queueMicrotask(() => this.cb([{ isIntersecting: true, target: el } as IntersectionObserverEntry], this as unknown as IntersectionObserver));
  }
  unobserve(el: Element): void {
    EagerObserver.observed = EagerObserver.observed.filter((x) => x !== el);
  }
  disconnect(): void {}
}

describe("MessageList attachments", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    EagerObserver.observed = [];
  });

  it("reserves a thumbnail's box from its size and loads it when it comes near", async () => {
    vi.stubGlobal("IntersectionObserver", EagerObserver);
    const imgs = images();
    const list = new MessageList(handlers(imgs));
    list.reset([msg({ localId: 1, type: "image", content: "look", attachments: [photo()] })], ctx(), false);
    const thumb = rowOf(list, 1)?.querySelector<HTMLElement>(".thumb");
    expect(thumb?.style.width).toBe("320px");
    expect(thumb?.style.aspectRatio.replace(/\s/g, "")).toBe("320/240");
    expect(thumb?.getAttribute("aria-label")).toBe("Open image cat.png");
    await vi.waitFor(() => expect(thumb?.querySelector("img")?.getAttribute("src")).toBe("asset://thumb/f1"));
    expect(imgs.load).toHaveBeenCalledWith("f1", true);
    expect(rowOf(list, 1)?.getAttribute("aria-label")).toContain("look. image cat.png");
  });

  it("uses a cached URL at once and asks for the full picture when there is no thumbnail", () => {
    const imgs = images({ "f:f1": "asset://cached" });
    const list = new MessageList(handlers(imgs));
    list.reset([msg({ localId: 1, type: "image", attachments: [photo({ thumbnailUrl: null })] })], ctx(), false);
    expect(rowOf(list, 1)?.querySelector(".thumb img")?.getAttribute("src")).toBe("asset://cached");
    expect(imgs.load).not.toHaveBeenCalled();
  });

  it("opens the viewer from a thumbnail and saves a file from its chip", () => {
    const h = handlers();
    const list = new MessageList(h);
    list.reset([msg({ localId: 1, type: "image", attachments: [photo()] }), msg({ localId: 2, type: "file", content: "", attachments: [pdf] })], ctx(), false);
    rowOf(list, 1)?.querySelector<HTMLElement>(".thumb")?.click();
    expect(h.onOpenImage).toHaveBeenCalledWith(expect.objectContaining({ fileId: "f1" }));
    const chip = rowOf(list, 2)?.querySelector(".file-chip");
    expect(chip?.querySelector(".file-name")?.textContent).toBe("report.pdf");
    expect(chip?.querySelector(".file-size")?.textContent).toBe("1.2 MB");
    chip?.querySelector<HTMLElement>('button[aria-label="Save report.pdf"]')?.click();
    expect(h.onSaveFile).toHaveBeenCalledWith(pdf);
  });

  it("shows a pending file's local preview and its upload progress", () => {
    const list = new MessageList(handlers());
    const local = photo({ fileId: "", url: "", thumbnailUrl: null, width: null, height: null });
    const p = pending(1, { senderId: "me", type: "image", content: "", attachments: [local] });
    list.reset([p], ctx(), false);
    const row = rowOf(list, 1);
    expect(row?.querySelector(".thumb")).toBeNull();
    expect(row?.querySelector(".file-chip .file-name")?.textContent).toBe("cat.png");
    expect(row?.querySelector(".file-chip button")).toBeNull();
    expect(row?.querySelector(".upload")?.textContent).toContain("Waiting to upload");
    list.update([p], ctx({ progress: new Map([["t1", 45]]) }));
    const bar = row?.querySelector("progress");
    expect(bar?.value).toBe(45);
    expect(bar?.getAttribute("aria-label")).toBe("Uploading cat.png");
    expect(row?.querySelector(".upload-pct")?.textContent).toBe("45%");
  });

  it("shows why a file message failed, without a progress bar", () => {
    const list = new MessageList(handlers());
    const local = { ...pdf, fileId: "", url: "" };
    list.reset(
      [pending(1, { senderId: "me", type: "file", attachments: [local], delivery: "failed", error: "type not allowed" })],
      ctx({ progress: new Map([["t1", 60]]) }),
      false,
    );
    const row = rowOf(list, 1);
    expect(row?.querySelector(".upload")).toBeNull();
    expect(row?.querySelector(".error-line")?.textContent).toBe("Not sent: type not allowed");
  });

  it("puts the focused row's attachment buttons in the Tab order, and Enter on them presses them", () => {
    const h = handlers();
    const list = new MessageList(h);
    list.reset([msg({ localId: 1, senderId: "me", type: "file", attachments: [pdf] }), msg({ localId: 2, senderId: "me", type: "image", attachments: [photo()] })], ctx(), false);
    // The newest row is the tab stop: its buttons follow it.
    expect(rowOf(list, 2)?.querySelector<HTMLElement>(".thumb")?.tabIndex).toBe(0);
    expect(rowOf(list, 1)?.querySelector<HTMLElement>(".att-btn")?.tabIndex).toBe(-1);
    rowOf(list, 2)?.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowUp", bubbles: true }));
    expect(rowOf(list, 1)?.querySelector<HTMLElement>(".att-btn")?.tabIndex).toBe(0);
    expect(rowOf(list, 2)?.querySelector<HTMLElement>(".thumb")?.tabIndex).toBe(-1);
    const save = rowOf(list, 1)?.querySelector<HTMLElement>(".att-btn");
    const enter = new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true });
    save?.dispatchEvent(enter);
    expect(enter.defaultPrevented).toBe(false);
    expect(h.onMenu).not.toHaveBeenCalled();
  });

  it("stops watching thumbnails of rows that leave the DOM", () => {
    vi.stubGlobal("IntersectionObserver", class extends EagerObserver {
      override observe(el: Element): void {
        EagerObserver.observed.push(el);
      }
    });
    const list = new MessageList(handlers());
    const start = [msg({ localId: 1, type: "image", attachments: [photo()] })];
    list.reset(start, ctx(), false);
    expect(EagerObserver.observed).toHaveLength(1);
    list.update([], ctx());
    expect(EagerObserver.observed).toHaveLength(0);
  });
});

describe("MessageList conversations", () => {
  const room = (): RoomView => ({
    roomId: "r1",
    type: "group",
    name: "team",
    description: "",
    members: [
      { userId: "me", userName: "me", displayName: "Me", role: "owner", lastReadSeq: 0, status: null, lastSeen: null, avatarUrl: null },
      { userId: "alice", userName: "alice", displayName: "Alice", role: "member", lastReadSeq: 0, status: null, lastSeen: null, avatarUrl: null },
    ],
    lastSeq: 3,
    unreadCount: 0,
    myReadSeq: 3,
    lastMessage: null,
    hasOlder: false,
    mentionCount: 0,
    pinnedMessageIds: ["m1"],
    notifyLevel: "all",
    muteUntil: null,
    notifyFollowsDefault: true,
  });

  it("shows a reply's quote, rich text with mentions, reactions and the pin; clicks go to the handlers", () => {
    const h = { ...handlers(), onOpenLink: vi.fn(), onJumpTo: vi.fn(), onReact: vi.fn() };
    const list = new MessageList(h);
    const reply = msg({
      localId: 2,
      seq: 2,
      content: "**yes** @me see https://example.com",
      replyTo: "m1",
      replyPreview: { messageId: "m1", senderId: "alice", type: "text", content: "lunch?", deletedAt: null },
      mentions: ["me"],
      reactions: [{ emoji: "👍", count: 2, userIds: ["me", "alice"], mine: true, pending: false }],
    });
    list.reset([msg({ localId: 1, seq: 1, content: "lunch?" }), reply], ctx({ room: room() }), false);
    const rows = list.el.querySelectorAll<HTMLElement>(".row");
    expect(rows[0]?.querySelector(".pinned")).not.toBeNull();
    const row = rows[1] as HTMLElement;
    expect(row.querySelector(".reply-quote")?.textContent).toBe("Alice lunch?");
    expect(row.querySelector(".text strong")?.textContent).toBe("yes");
    expect(row.querySelector(".mention.mention-me")?.textContent).toBe("@me");
    const chip = row.querySelector<HTMLButtonElement>(".reactions .chip.mine");
    expect(chip?.getAttribute("aria-label")).toBe("👍 2: You, Alice");
    chip?.click();
    expect(h.onReact).toHaveBeenCalledWith(reply, "👍", false);
    row.querySelector<HTMLButtonElement>(".reply-quote")?.click();
    expect(h.onJumpTo).toHaveBeenCalledWith("m1");
    const link = row.querySelector<HTMLAnchorElement>("a.link");
    const click = new MouseEvent("click", { bubbles: true, cancelable: true });
    link?.dispatchEvent(click);
    expect(click.defaultPrevented).toBe(true);
    expect(h.onOpenLink).toHaveBeenCalledWith("https://example.com");
  });

  it("shows a link preview as a card that opens the link, its picture from the thumbnail", async () => {
    const imgs = images();
    const h = { ...handlers(imgs), onOpenLink: vi.fn() };
    const list = new MessageList(h);
    const m = msg({
      localId: 1,
      seq: 1,
      content: "look https://example.com/docs",
      linkPreview: {
        url: "https://example.com/docs",
        title: "The docs",
        description: "Everything about it",
        image: { fileId: "f9", name: "preview.jpg", mime: "image/jpeg", size: 10, width: 320, height: 200, url: "/api/files/f9", thumbnailUrl: "/api/files/f9/thumbnail" },
      },
    });
    list.reset([m], ctx(), false);
    const card = list.el.querySelector<HTMLAnchorElement>("a.link-card");
    expect(card?.querySelector(".lp-site")?.textContent).toBe("example.com");
    expect(card?.querySelector(".lp-title")?.textContent).toBe("The docs");
    expect(card?.getAttribute("aria-label")).toBe("Link preview: example.com. The docs. Everything about it");
    expect(imgs.load).toHaveBeenCalledWith("f9", true);
    await Promise.resolve();
    expect(card?.querySelector("img")?.getAttribute("src")).toBe("asset://thumb/f9");
    const click = new MouseEvent("click", { bubbles: true, cancelable: true });
    card?.querySelector(".lp-title")?.dispatchEvent(click);
    expect(click.defaultPrevented).toBe(true);
    expect(h.onOpenLink).toHaveBeenCalledWith("https://example.com/docs");
  });

  it("opens a message's menu on right-click where the pointer is", () => {
    const h = handlers();
    const list = new MessageList(h);
    const m = msg({ localId: 1, seq: 1 });
    list.reset([m], ctx(), false);
    const row = rowOf(list, 1) as HTMLElement;
    const ev = new MouseEvent("contextmenu", { bubbles: true, cancelable: true, clientX: 40, clientY: 50 });
    row.querySelector(".text")?.dispatchEvent(ev);
    expect(ev.defaultPrevented).toBe(true);
    expect(h.onMenu).toHaveBeenCalledWith(m, row.querySelector(".msg-menu-btn"), { x: 40, y: 50 });
  });

  it("reveals a loaded message above the rendered window by rendering down from it", () => {
    const list = new MessageList(handlers());
    list.reset(many(300), ctx(), false);
    expect(rowOf(list, 10)).toBeNull();
    expect(list.reveal("m10")).toBe(true);
    expect(rowOf(list, 10)?.classList.contains("flash")).toBe(true);
    expect(rowOf(list, 300)).not.toBeNull();
    expect(list.reveal("nope")).toBe(false);
  });
});


describe("MessageList (issue #21)", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("drops 'No messages yet' once the first message arrives, without reopening the room", () => {
    const list = new MessageList(handlers());
    list.reset([], ctx(), false);
    expect(list.el.querySelector(".list-top")?.textContent).toContain("Say hello");
    list.update([pending(1, { senderId: "me" })], ctx(), { toEnd: true });
    expect(list.el.querySelector(".list-top")?.textContent).not.toContain("Say hello");
    expect(list.el.querySelector(".list-top")?.textContent).toBe("This is the beginning of the conversation.");
  });

  it("stays pinned to the newest message when the view shrinks (a banner or the edit bar)", () => {
    const observed: { cb: ResizeObserverCallback; targets: Element[] }[] = [];
    vi.stubGlobal(
      "ResizeObserver",
      class {
        readonly entry: { cb: ResizeObserverCallback; targets: Element[] };
        constructor(cb: ResizeObserverCallback) {
          this.entry = { cb, targets: [] };
          observed.push(this.entry);
        }
        observe(t: Element) {
          this.entry.targets.push(t);
        }
        unobserve() {}
        disconnect() {}
      },
    );
    const list = new MessageList(handlers());
    const g = { scrollHeight: 2000, clientHeight: 600 };
    geometry(list, g);
    list.reset(many(30), ctx(), false);
    expect(list.el.scrollTop).toBe(1400);
    expect(observed.some((o) => o.targets.includes(list.el))).toBe(true);
    const fire = () => {
      for (const o of observed) if (o.targets.includes(list.el)) o.cb([], {} as ResizeObserver);
    };
    // The offline banner takes 40 px: the newest message would sit under the fold.
    g.clientHeight = 560;
    fire();
    expect(list.el.scrollTop).toBe(1440);
    // Scrolled up on purpose, a resize leaves the place alone.
    list.el.scrollTop = 300;
    list.el.dispatchEvent(new Event("scroll"));
    return new Promise<void>((done) =>
      requestAnimationFrame(() => {
        g.clientHeight = 500;
        fire();
        expect(list.el.scrollTop).toBe(300);
        done();
      }),
    );
  });
});

describe("MessageList waiting sends (issue #21)", () => {
  afterEach(() => vi.useRealTimers());

  it("says why a send waits, counts down, and offers to cancel it", () => {
    vi.useFakeTimers();
    const now = Date.UTC(2024, 2, 5, 10, 0, 0);
    vi.setSystemTime(now);
    const h = { ...handlers(), onCancelSend: vi.fn() };
    const list = new MessageList(h);
    const waiting = pending(2, { senderId: "me", waiting: "rate_limited", retryAt: now + 48_000 });
    list.reset([msg({ localId: 1, seq: 1 }), waiting], ctx(), false);
    const line = () => rowOf(list, 2)?.querySelector(".wait-line");
    expect(line()?.textContent).toContain("Slowed down by the server: sending in 48 s");
    const cancel = line()?.querySelector("button") as HTMLButtonElement;
    document.body.appendChild(list.el);
    cancel.focus();
    vi.advanceTimersByTime(3_000);
    expect(line()?.textContent).toContain("sending in 45 s");
    // Counted down in place: the button (and the focus on it) stays.
    expect(line()?.querySelector("button")).toBe(cancel);
    expect(document.activeElement).toBe(cancel);
    expect(rowOf(list, 2)?.getAttribute("aria-label")).toContain("Slowed down by the server");
    expect(rowOf(list, 2)?.getAttribute("aria-label")).not.toMatch(/\d+ s\b/);
    (line()?.querySelector("button") as HTMLButtonElement).click();
    expect(h.onCancelSend).toHaveBeenCalledWith(waiting);
    // Once due it is simply sending again, and the clock stops.
    vi.advanceTimersByTime(46_000);
    expect(line()).toBeNull();
    expect(rowOf(list, 2)?.querySelector(".mark")?.getAttribute("aria-label")).toBe("Sending");
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("MessageList in long rooms (issue #20)", () => {
  const fromBob = (n: number, from = 1) =>
    Array.from({ length: n }, (_, i) => msg({ localId: from + i, seq: from + i, senderId: "bob" }));
  const jump = (list: MessageList) => list.el.querySelector<HTMLButtonElement>(".jump-latest-btn") as HTMLButtonElement;

  it("opens on the first unread message under a 'New messages' divider, the button counting what is below", () => {
    const list = new MessageList(handlers());
    geometry(list, { scrollHeight: 3000, clientHeight: 600 });
    const r = room({ myReadSeq: 20 });
    list.reset(fromBob(30), ctx({ room: r }), false);
    const dividers = [...list.el.querySelectorAll(".unread-sep")];
    expect(dividers).toHaveLength(1);
    expect(dividers[0]?.closest(".row")).toBe(rowOf(list, 21));
    expect(dividers[0]?.textContent).toBe("New messages");
    expect(list.el.scrollTop).toBeLessThan(2400);
    expect(jump(list).hidden).toBe(false);
    expect(jump(list).textContent).toBe("10 new messages");
  });

  it("opens at the end with no divider when everything was read, or the unread are the user's own", () => {
    const list = new MessageList(handlers());
    geometry(list, { scrollHeight: 3000, clientHeight: 600 });
    list.reset(fromBob(30), ctx({ room: room({ myReadSeq: 30 }) }), false);
    expect(list.el.querySelector(".unread-sep")).toBeNull();
    expect(list.el.scrollTop).toBe(2400);
    expect(jump(list).hidden).toBe(true);
    const mine = many(30).map((m) => ({ ...m, senderId: "me" }));
    list.reset(mine, ctx({ room: room({ myReadSeq: 2 }) }), false);
    expect(list.el.querySelector(".unread-sep")).toBeNull();
  });

  it("scrolled up, counts messages that arrive below; the button goes to the newest", () => {
    const h = handlers();
    const list = new MessageList(h);
    const g = { scrollHeight: 3000, clientHeight: 600 };
    geometry(list, g);
    const r = room({ myReadSeq: 30 });
    list.reset(fromBob(30), ctx({ room: r }), false);
    list.el.scrollTop = 500;
    list.el.dispatchEvent(new Event("scroll"));
    expect(jump(list).hidden).toBe(false);
    expect(jump(list).textContent).toBe("Jump to latest");
    g.scrollHeight = 3200;
    list.update([...fromBob(30), pending(33, { senderId: "me" })], ctx({ room: r }));
    // Two arrive while the user's own message is still unsent (it sorts last).
    list.update([...fromBob(30), ...fromBob(2, 31), pending(33, { senderId: "me" })], ctx({ room: r }));
    expect(list.el.scrollTop).toBe(500);
    expect(jump(list).textContent).toBe("2 new messages");
    expect(jump(list).getAttribute("aria-label")).toBe("2 new messages. Jump to the newest");
    jump(list).click();
    expect(list.el.scrollTop).toBe(2600);
    expect(h.onAtBottom).toHaveBeenCalled();
    expect(jump(list).hidden).toBe(true);
  });
});
