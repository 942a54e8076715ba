import { describe, expect, it } from "vitest";
import { TypingTracker, typingLabel } from "./typing";

describe("typingLabel", () => {
  it("is empty when nobody types", () => {
    expect(typingLabel([])).toBe("");
  });
  it("names one or two typists", () => {
    expect(typingLabel(["Bob"])).toBe("Bob is typing…");
    expect(typingLabel(["Bob", "Carol"])).toBe("Bob and Carol are typing…");
  });
  it("counts three or more", () => {
    expect(typingLabel(["Bob", "Carol", "Dave"])).toBe("3 people are typing…");
    expect(typingLabel(["a", "b", "c", "d", "e"])).toBe("5 people are typing…");
  });
});

describe("TypingTracker", () => {
  it("lists typists per room in the order they started", () => {
    const t = new TypingTracker(5000);
    expect(t.update("r1", "bob", "Bob", true, 0)).toBe(true);
    expect(t.update("r1", "carol", "Carol", true, 10)).toBe(true);
    expect(t.update("r2", "dave", "Dave", true, 10)).toBe(true);
    // A renewal changes nothing visible.
    expect(t.update("r1", "bob", "Bob", true, 20)).toBe(false);
    expect(t.names("r1")).toEqual(["Bob", "Carol"]);
    expect(t.names("r2")).toEqual(["Dave"]);
  });

  it("drops a typist who stopped", () => {
    const t = new TypingTracker(5000);
    t.update("r1", "bob", "Bob", true, 0);
    expect(t.update("r1", "bob", "Bob", false, 1)).toBe(true);
    expect(t.update("r1", "bob", "Bob", false, 2)).toBe(false);
    expect(t.names("r1")).toEqual([]);
    expect(t.active).toBe(false);
  });

  it("expires a typist whose stop was lost, unless renewed", () => {
    const t = new TypingTracker(5000);
    t.update("r1", "bob", "Bob", true, 0);
    t.update("r1", "carol", "Carol", true, 0);
    t.update("r1", "carol", "Carol", true, 4000);
    expect(t.expire(4999)).toEqual([]);
    expect(t.expire(5000)).toEqual(["r1"]);
    expect(t.names("r1")).toEqual(["Carol"]);
    expect(t.expire(9000)).toEqual(["r1"]);
    expect(t.active).toBe(false);
  });

  it("clears one typist when their message arrives, or the whole room", () => {
    const t = new TypingTracker();
    t.update("r1", "bob", "Bob", true, 0);
    t.update("r1", "carol", "Carol", true, 0);
    expect(t.clear("r1", "bob")).toBe(true);
    expect(t.clear("r1", "bob")).toBe(false);
    expect(t.names("r1")).toEqual(["Carol"]);
    expect(t.clear("r1")).toBe(true);
    expect(t.names("r1")).toEqual([]);
  });

  it("holds a typist until stopped by default, however long they type", () => {
    const t = new TypingTracker();
    t.update("r1", "bob", "Bob", true, 0);
    expect(t.expire(30_000)).toEqual([]);
    expect(t.names("r1")).toEqual(["Bob"]);
  });

  it("forgets everyone at once when the connection drops", () => {
    const t = new TypingTracker();
    t.update("r1", "bob", "Bob", true, 0);
    t.update("r2", "carol", "Carol", true, 0);
    expect(t.clearAll().sort()).toEqual(["r1", "r2"]);
    expect(t.active).toBe(false);
  });

  it("keeps a known name when an event comes without one", () => {
    const t = new TypingTracker();
    t.update("r1", "bob", "Bob", true, 0);
    t.update("r1", "bob", "", true, 1);
    expect(t.names("r1")).toEqual(["Bob"]);
  });
});
