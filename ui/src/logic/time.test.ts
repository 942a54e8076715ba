import { describe, expect, it } from "vitest";
import {
  dayLabel,
  daysBetween,
  lastSeenLabel,
  needsDaySeparator,
  parseTime,
  presenceLabel,
  shortWhen,
  timeOfDay,
} from "./time";

// Local-time constructors keep these tests right in any time zone.
const now = new Date(2024, 2, 13, 15, 30); // Wednesday 13 March 2024, 15:30
const at = (day: number, hour = 12, minute = 0, month = 2, year = 2024) => new Date(year, month, day, hour, minute);
const GB = "en-GB";

describe("dayLabel", () => {
  it("says Today for any time today", () => {
    expect(dayLabel(at(13, 0, 1), now, GB)).toBe("Today");
    expect(dayLabel(at(13, 23, 59), now, GB)).toBe("Today");
  });
  it("says Yesterday for the calendar day before, even minutes ago", () => {
    const lateLastNight = new Date(2024, 2, 12, 23, 59);
    const justAfterMidnight = new Date(2024, 2, 13, 0, 1);
    expect(dayLabel(lateLastNight, justAfterMidnight, GB)).toBe("Yesterday");
  });
  it("names the weekday within the last week", () => {
    expect(dayLabel(at(11), now, GB)).toBe("Monday");
    expect(dayLabel(at(7), now, GB)).toBe("Thursday");
  });
  it("gives the date a week or more back, with the year only for other years", () => {
    expect(dayLabel(at(6), now, GB)).toBe("Wed 6 March");
    expect(dayLabel(at(24, 12, 0, 11, 2023), now, GB)).toBe("24 December 2023");
  });
});

describe("needsDaySeparator", () => {
  it("puts a separator above the first message", () => {
    expect(needsDaySeparator(null, at(13))).toBe(true);
  });
  it("puts one where the day changes, and none within a day", () => {
    expect(needsDaySeparator(at(12, 23, 59), at(13, 0, 0))).toBe(true);
    expect(needsDaySeparator(at(13, 0, 0), at(13, 23, 59))).toBe(false);
  });
});

describe("daysBetween", () => {
  it("counts calendar days, not 24-hour spans", () => {
    expect(daysBetween(at(12, 23), at(13, 1))).toBe(1);
    expect(daysBetween(at(13, 1), at(13, 23))).toBe(0);
    expect(daysBetween(at(28, 12, 0, 1), at(1, 12, 0, 2))).toBe(2); // 2024 is a leap year
  });
});

describe("lastSeenLabel", () => {
  const ago = (ms: number) => new Date(now.getTime() - ms);
  it("says just now under a minute", () => {
    expect(lastSeenLabel(ago(30_000), now, GB)).toBe("last seen just now");
  });
  it("counts minutes under an hour", () => {
    expect(lastSeenLabel(ago(5 * 60_000), now, GB)).toBe("last seen 5 min ago");
    expect(lastSeenLabel(ago(59 * 60_000 + 59_000), now, GB)).toBe("last seen 59 min ago");
  });
  it("counts hours earlier today", () => {
    expect(lastSeenLabel(ago(3 * 3600_000 + 60_000), now, GB)).toBe("last seen 3 h ago");
  });
  it("says yesterday with the time", () => {
    expect(lastSeenLabel(at(12, 9, 15), now, GB)).toBe("last seen yesterday at 9:15");
  });
  it("gives the date further back", () => {
    expect(lastSeenLabel(at(3), now, GB)).toBe("last seen on 3 March");
    expect(lastSeenLabel(at(3, 12, 0, 2, 2022), now, GB)).toBe("last seen on 3 March 2022");
  });
});

describe("presenceLabel", () => {
  it("says online when online", () => {
    expect(presenceLabel("online", "2024-01-01T00:00:00Z", now, GB)).toBe("online");
  });
  it("says when last seen when offline", () => {
    const fiveMinAgo = new Date(now.getTime() - 5 * 60_000).toISOString();
    expect(presenceLabel("offline", fiveMinAgo, now, GB)).toBe("last seen 5 min ago");
  });
  it("says offline without a time, and nothing when unknown", () => {
    expect(presenceLabel("offline", null, now, GB)).toBe("offline");
    expect(presenceLabel(null, null, now, GB)).toBe("");
  });
});

describe("short times", () => {
  it("writes the time of day", () => {
    expect(timeOfDay(at(13, 9, 5), GB)).toBe("9:05");
  });
  it("shows the time today, Yesterday, a weekday, then a date", () => {
    expect(shortWhen(at(13, 9, 5), now, GB)).toBe("9:05");
    expect(shortWhen(at(12), now, GB)).toBe("Yesterday");
    expect(shortWhen(at(10), now, GB)).toBe("Sun");
    expect(shortWhen(at(1), now, GB)).toBe("1 Mar");
    expect(shortWhen(at(1, 12, 0, 0, 2023), now, GB)).toBe("1 Jan 2023");
  });
});

describe("parseTime", () => {
  it("reads RFC 3339 and rejects junk", () => {
    expect(parseTime("2024-03-05T10:00:00.000Z")?.getTime()).toBe(Date.UTC(2024, 2, 5, 10));
    expect(parseTime("not a date")).toBeNull();
    expect(parseTime(null)).toBeNull();
  });
});
