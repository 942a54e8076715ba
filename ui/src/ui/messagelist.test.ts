// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import { msg, pending } from "../logic/fixtures";
import { upsertMessage } from "../logic/messages";
import type { MessageView } from "../types";
import { MessageList, type ListContext } from "./messagelist";

const ctx = (over: Partial<ListContext> = {}): ListContext => ({
  myUserId: "me",
  room: undefined,
  readSeq: 0,
  progress: new Map(),
  ...over,
});
const handlers = () => ({ onNeedOlder: vi.fn(), onAtBottom: vi.fn(), onMenu: vi.fn() });
const many = (n: number): MessageView[] =>
  Array.from({ length: n }, (_, i) => msg({ localId: i + 1, seq: i + 1, senderId: i % 2 ? "me" : "bob" }));
const rowOf = (list: MessageList, localId: number) => list.el.querySelector<HTMLElement>(`.row[data-id="${localId}"]`);

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
