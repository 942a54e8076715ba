import { describe, expect, it } from "vitest";
import { unreadBadge, unreadLabel } from "./unread";

describe("unreadBadge", () => {
  it("shows no badge for nothing unread", () => {
    expect(unreadBadge(0)).toBe("");
    expect(unreadBadge(-3)).toBe("");
  });
  it("spells out counts up to 99", () => {
    expect(unreadBadge(1)).toBe("1");
    expect(unreadBadge(99)).toBe("99");
  });
  it("caps at 99+", () => {
    expect(unreadBadge(100)).toBe("99+");
    expect(unreadBadge(12345)).toBe("99+");
  });
});

describe("unreadLabel", () => {
  it("reads naturally for screen readers", () => {
    expect(unreadLabel(0)).toBe("");
    expect(unreadLabel(1)).toBe("1 unread message");
    expect(unreadLabel(150)).toBe("150 unread messages");
  });
});
