// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import { room } from "../logic/fixtures";
import { RoomList } from "./roomlist";

const now = new Date("2026-12-07T12:00:00Z");

describe("the room list", () => {
  it("says there are no chats, or that none matched a search", () => {
    const list = new RoomList(vi.fn());
    list.render([], "alice", null, now, new Map());
    expect(list.emptyNotice.hidden).toBe(false);
    expect(list.emptyNotice.textContent).toContain("No chats yet");
    list.render([], "alice", null, now, new Map(), true);
    expect(list.emptyNotice.textContent).toBe("No chat has that name.");
    list.render([room({ roomId: "r1" })], "alice", null, now, new Map(), true);
    expect(list.emptyNotice.hidden).toBe(true);
  });

  it("keeps a row's button when the row is refilled, so a click that starts before a new message lands", () => {
    const open = vi.fn();
    const list = new RoomList(open);
    document.body.replaceChildren(list.el);
    list.render([room({ roomId: "r1" })], "alice", null, now, new Map());
    const button = list.el.querySelector<HTMLButtonElement>("button.room");
    expect(button?.textContent).toContain("Bob");

    // A message arrives between the press and the release: the row is refilled.
    button?.dispatchEvent(new MouseEvent("mousedown", { bubbles: true }));
    list.render([room({ roomId: "r1", unreadCount: 1, lastSeq: 1 })], "alice", null, now, new Map());
    const after = list.el.querySelector<HTMLButtonElement>("button.room");
    expect(after).toBe(button);
    expect(after?.textContent).toContain("1 unread");
    after?.click();
    expect(open).toHaveBeenCalledWith("r1");

    // The open room is marked, and unmarked when another opens.
    list.render([room({ roomId: "r1" })], "alice", "r1", now, new Map());
    expect(after?.getAttribute("aria-current")).toBe("true");
    list.render([room({ roomId: "r1" })], "alice", "r2", now, new Map());
    expect(after?.hasAttribute("aria-current")).toBe(false);
  });
});
