import { describe, expect, it } from "vitest";
import { msg, order, pending } from "./fixtures";
import {
  canModify,
  compareMessages,
  mergeMessages,
  messageKey,
  newestSeq,
  oldestSeq,
  removeMessage,
  upsertMessage,
} from "./messages";

describe("compareMessages", () => {
  it("orders acked messages by seq", () => {
    expect(compareMessages(msg({ localId: 9, seq: 1 }), msg({ localId: 1, seq: 2 }))).toBeLessThan(0);
  });
  it("puts pending messages after acked ones, by localId", () => {
    expect(compareMessages(pending(1), msg({ localId: 5, seq: 99 }))).toBeGreaterThan(0);
    expect(compareMessages(pending(3), pending(4))).toBeLessThan(0);
  });
});

describe("upsertMessage", () => {
  const base = [msg({ localId: 1, seq: 1 }), msg({ localId: 2, seq: 2 }), pending(3), pending(4)];

  it("adds a new message at its place by seq", () => {
    const { list, from, to } = upsertMessage(base, msg({ localId: 7, seq: 3 }));
    expect(order(list)).toEqual(["1", "2", "3", "p3", "p4"]);
    expect(from).toBe(-1);
    expect(to).toBe(2);
  });

  it("adds an older message above the rest", () => {
    const list = [msg({ localId: 5, seq: 5 })];
    expect(order(upsertMessage(list, msg({ localId: 4, seq: 4 })).list)).toEqual(["4", "5"]);
  });

  it("replaces a message in place when its order does not change (an edit)", () => {
    const edited = msg({ localId: 2, seq: 2, content: "changed", editedAt: "2024-03-05T11:00:00Z" });
    const { list, from, to } = upsertMessage(base, edited);
    expect(list).toHaveLength(4);
    expect(list[1]).toBe(edited);
    expect(from).toBe(1);
    expect(to).toBe(1);
  });

  it("moves a pending message that got its seq among the acked ones", () => {
    // p4 was sent first by the server: it takes seq 3 while p3 is still pending.
    const acked = msg({ localId: 4, seq: 3, tempId: "t4" });
    const { list, from, to } = upsertMessage(base, acked);
    expect(order(list)).toEqual(["1", "2", "3", "p3"]);
    expect(from).toBe(3);
    expect(to).toBe(2);
    expect(list.filter((m) => m.localId === 4)).toHaveLength(1);
  });

  it("keeps a pending message in place when it is acked as the newest", () => {
    const { list, from, to } = upsertMessage(base.slice(0, 3), msg({ localId: 3, seq: 3, tempId: "t3" }));
    expect(order(list)).toEqual(["1", "2", "3"]);
    expect([from, to]).toEqual([2, 2]);
  });

  it("never shows one server message twice even under another local id", () => {
    const again = msg({ localId: 42, seq: 2, messageId: "m2" });
    const { list } = upsertMessage(base, again);
    expect(list).toHaveLength(4);
    expect(list[1]?.localId).toBe(42);
  });

  it("does not change the list it was given", () => {
    const copy = base.slice();
    upsertMessage(base, msg({ localId: 9, seq: 9 }));
    expect(base).toEqual(copy);
  });
});

describe("mergeMessages", () => {
  it("merges an older page in front and ignores duplicates", () => {
    const list = [msg({ localId: 10, seq: 10 }), pending(11)];
    const page = [msg({ localId: 8, seq: 8 }), msg({ localId: 9, seq: 9 }), msg({ localId: 10, seq: 10 })];
    expect(order(mergeMessages(list, page))).toEqual(["8", "9", "10", "p11"]);
  });
});

describe("removeMessage", () => {
  it("drops the message with that local id and says where it was", () => {
    const { list, at } = removeMessage([msg({ localId: 1 }), pending(2), pending(3)], 2);
    expect(order(list)).toEqual(["1", "p3"]);
    expect(at).toBe(1);
  });
  it("reports -1 for an unknown id", () => {
    expect(removeMessage([msg()], 99).at).toBe(-1);
  });
});

describe("messageKey", () => {
  it("prefers the server id, then the tempId, then the local id", () => {
    expect(messageKey(msg({ localId: 1, messageId: "srv", tempId: "t" }))).toBe("srv");
    expect(messageKey(pending(5))).toBe("t5");
    expect(messageKey(pending(6, { tempId: null }))).toBe("6");
  });
});

describe("seq bounds", () => {
  const list = [msg({ localId: 4, seq: 4 }), msg({ localId: 7, seq: 7 }), pending(8)];
  it("finds the newest seq, skipping pending messages", () => {
    expect(newestSeq(list)).toBe(7);
    expect(newestSeq([pending(1)])).toBeNull();
  });
  it("finds the oldest seq", () => {
    expect(oldestSeq(list)).toBe(4);
    expect(oldestSeq([])).toBeNull();
  });
});

describe("canModify", () => {
  it("allows the sender to change a live message only", () => {
    expect(canModify(msg({ senderId: "me" }), "me")).toBe(true);
    expect(canModify(msg({ senderId: "bob" }), "me")).toBe(false);
    expect(canModify(msg({ senderId: "me", deletedAt: "2024-01-01T00:00:00Z" }), "me")).toBe(false);
    expect(canModify(msg({ senderId: "me", type: "system" }), "me")).toBe(false);
  });
});
