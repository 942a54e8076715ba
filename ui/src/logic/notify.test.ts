import { describe, expect, it } from "vitest";
import { FOREVER, isMuted, isQuiet, muteUntil, notifySummary } from "./notify";

const NOW = Date.parse("2026-03-05T10:00:00.000Z");

describe("notification settings", () => {
  it("say what is in force", () => {
    expect(notifySummary({ notifyLevel: "all", notifyFollowsDefault: true, muteUntil: null }, NOW)).toBe("All messages (default)");
    expect(notifySummary({ notifyLevel: "mentions", notifyFollowsDefault: false, muteUntil: FOREVER }, NOW)).toBe("Mentions only, muted");
    expect(notifySummary({ notifyLevel: "none", notifyFollowsDefault: false, muteUntil: "2026-03-05T09:00:00.000Z" }, NOW)).toBe("Nothing");
    expect(notifySummary({ notifyLevel: "all", notifyFollowsDefault: false, muteUntil: muteUntil(3_600_000, NOW) }, NOW)).toMatch(/^All messages, muted until /);
  });
  it("know a mute from a past one, and when a room is quiet", () => {
    expect(isMuted({ muteUntil: null }, NOW)).toBe(false);
    expect(isMuted({ muteUntil: "2026-03-05T09:59:59.000Z" }, NOW)).toBe(false);
    expect(isMuted({ muteUntil: muteUntil(1, NOW) }, NOW)).toBe(true);
    expect(muteUntil(null, NOW)).toBe(FOREVER);
    expect(isQuiet({ notifyLevel: "mentions", muteUntil: null }, NOW)).toBe(true);
    expect(isQuiet({ notifyLevel: "all", muteUntil: null }, NOW)).toBe(false);
  });
});
