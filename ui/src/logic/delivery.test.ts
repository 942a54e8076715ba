import { describe, expect, it } from "vitest";
import { deliveryMark, effectiveDelivery, othersReadSeq } from "./delivery";
import { member, msg, pending } from "./fixtures";

const own = (over = {}) => msg({ senderId: "me", ...over });

describe("deliveryMark", () => {
  it("marks each state of the user's own messages", () => {
    expect(deliveryMark(pending(1, { senderId: "me" }), "me")?.glyph).toBe("○");
    expect(deliveryMark(own({ delivery: "sent" }), "me")?.glyph).toBe("✓");
    expect(deliveryMark(own({ delivery: "read" }), "me")?.glyph).toBe("✓✓");
    expect(deliveryMark(own({ delivery: "failed" }), "me")?.glyph).toBe("!");
  });
  it("labels the marks for screen readers, with the failure reason", () => {
    expect(deliveryMark(own({ delivery: "sent" }), "me")?.label).toBe("Sent");
    expect(deliveryMark(own({ delivery: "failed", error: "too long" }), "me")?.label).toBe("Not sent: too long");
  });
  it("says why a message waits and when it will go, counting down (issue #21)", () => {
    const now = 1_000_000;
    const slowed = pending(1, { senderId: "me", waiting: "rate_limited", retryAt: now + 47_200 });
    expect(deliveryMark(slowed, "me", 0, now)).toEqual({ glyph: "○", label: "Slowed down by the server: sending in 48 s", state: "pending", waiting: true });
    expect(deliveryMark(slowed, "me", 0, now + 46_500)?.label).toBe("Slowed down by the server: sending in 1 s");
    expect(deliveryMark(slowed, "me", 0, now + 125_000)?.label).toBe("Sending");
    const failing = pending(2, { senderId: "me", waiting: "server_error", retryAt: now + 8_000 });
    expect(deliveryMark(failing, "me", 0, now)?.label).toBe("The server had a problem: trying again in 8 s");
    const long = pending(3, { senderId: "me", waiting: "rate_limited", retryAt: now + 150_000 });
    expect(deliveryMark(long, "me", 0, now)?.label).toBe("Slowed down by the server: sending in 2 min 30 s");
  });
  it("marks nothing on others' messages or tombstones", () => {
    expect(deliveryMark(msg({ senderId: "bob" }), "me")).toBeNull();
    expect(deliveryMark(own({ deletedAt: "2024-03-05T10:00:00Z" }), "me")).toBeNull();
  });
  it("shows read once another member's pointer passed the message", () => {
    expect(deliveryMark(own({ seq: 5, delivery: "sent" }), "me", 5)?.state).toBe("read");
    expect(deliveryMark(own({ seq: 6, delivery: "sent" }), "me", 5)?.state).toBe("sent");
  });
});

describe("effectiveDelivery", () => {
  it("never upgrades pending or failed messages", () => {
    expect(effectiveDelivery(pending(1), 100)).toBe("pending");
    expect(effectiveDelivery(own({ seq: 1, delivery: "failed" }), 100)).toBe("failed");
  });
});

describe("othersReadSeq", () => {
  it("takes the furthest pointer among the other members", () => {
    const members = [member("me", { lastReadSeq: 50 }), member("bob", { lastReadSeq: 7 }), member("carol", { lastReadSeq: 9 })];
    expect(othersReadSeq(members, "me")).toBe(9);
    expect(othersReadSeq([member("me", { lastReadSeq: 50 })], "me")).toBe(0);
  });
});
