import { describe, expect, it } from "vitest";
import { room } from "./fixtures";
import { PendingOpen, UnreadBadge, totalUnread } from "./attention";

describe("totalUnread", () => {
  it("adds up every room's unread count", () => {
    expect(totalUnread([])).toBe(0);
    expect(
      totalUnread([room({ roomId: "a", unreadCount: 2 }), room({ roomId: "b", unreadCount: 0 }), room({ roomId: "c", unreadCount: 5 })]),
    ).toBe(7);
  });

  it("never lets a bogus negative count lower the total", () => {
    expect(totalUnread([room({ unreadCount: -3 }), room({ roomId: "b", unreadCount: 1 })])).toBe(1);
  });
});

describe("UnreadBadge", () => {
  it("tells the shell only when the total changes", async () => {
    const sent: number[] = [];
    const badge = new UnreadBadge(async (n) => void sent.push(n));
    await badge.set(0);
    await badge.set(0);
    await badge.set(3);
    await badge.set(3);
    await badge.set(0);
    expect(sent).toEqual([0, 3, 0]);
    expect(badge.current).toBe(0);
  });

  it("does not send the same total twice while the first call is under way", async () => {
    const sent: number[] = [];
    let release = (): void => undefined;
    const badge = new UnreadBadge((n) => {
      sent.push(n);
      return new Promise((r) => (release = r));
    });
    const first = badge.set(4);
    const second = badge.set(4);
    release();
    await Promise.all([first, second]);
    expect(sent).toEqual([4]);
    expect(badge.current).toBe(4);
  });

  it("tries again after the shell failed to take a total", async () => {
    let fail = true;
    const sent: number[] = [];
    const badge = new UnreadBadge(async (n) => {
      sent.push(n);
      if (fail) throw new Error("window gone");
    });
    await badge.set(2);
    expect(badge.current).toBeNull();
    fail = false;
    await badge.set(2);
    expect(sent).toEqual([2, 2]);
    expect(badge.current).toBe(2);
  });
});

describe("PendingOpen", () => {
  it("opens a known room at once", () => {
    const p = new PendingOpen();
    expect(p.request("r1", true, 0)).toBe("r1");
    expect(p.arrived("r1", 1)).toBeNull();
  });

  it("opens an unknown room when it arrives, once", () => {
    const p = new PendingOpen();
    expect(p.request("r2", false, 0)).toBeNull();
    expect(p.arrived("r1", 100)).toBeNull();
    expect(p.arrived("r2", 200)).toBe("r2");
    expect(p.arrived("r2", 300)).toBeNull();
  });

  it("keeps only the newest request, and gives up after a while", () => {
    const p = new PendingOpen(1_000);
    p.request("r1", false, 0);
    p.request("r2", false, 10);
    expect(p.arrived("r1", 20)).toBeNull();
    expect(p.arrived("r2", 2_000)).toBeNull();
  });

  it("forgets a pending room once a known one is asked for", () => {
    const p = new PendingOpen();
    p.request("r1", false, 0);
    expect(p.request("r2", true, 1)).toBe("r2");
    expect(p.arrived("r1", 2)).toBeNull();
  });
});
