// Dates and times as people read them: day separators in a message list
// ("Today", "Yesterday", a weekday, a date), "last seen 5 min ago", and the
// short times beside messages and rooms. Every function takes `now` and a
// locale so tests need no clock and no particular machine.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Midnight (local time) at the start of the day `d` falls in. */
export function startOfDay(d: Date): Date {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate());
}

/** Whole calendar days from `a`'s day to `b`'s day (DST-safe). */
export function daysBetween(a: Date, b: Date): number {
  const da = startOfDay(a);
  const db = startOfDay(b);
  // Round: a day with a DST switch is 23 or 25 hours long.
  return Math.round((db.getTime() - da.getTime()) / (24 * HOUR));
}

/** Parses an RFC 3339 time; null if it is missing or not a time. */
export function parseTime(value: string | null | undefined): Date | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Whether two times fall on the same local calendar day. */
export function sameDay(a: Date, b: Date): boolean {
  return daysBetween(a, b) === 0;
}

/**
 * The label of a day separator: "Today", "Yesterday", the weekday within the
 * last week, else the date (with the year only when it is not this year's).
 */
export function dayLabel(day: Date, now: Date, locale?: string): string {
  const ago = daysBetween(day, now);
  if (ago === 0) return "Today";
  if (ago === 1) return "Yesterday";
  if (ago > 1 && ago < 7) {
    return new Intl.DateTimeFormat(locale, { weekday: "long" }).format(day);
  }
  const opts: Intl.DateTimeFormatOptions =
    day.getFullYear() === now.getFullYear()
      ? { weekday: "short", day: "numeric", month: "long" }
      : { day: "numeric", month: "long", year: "numeric" };
  return new Intl.DateTimeFormat(locale, opts).format(day);
}

/**
 * Whether a day separator goes above a message created at `current`, given
 * the message before it (`previous`; null at the top of the list).
 */
export function needsDaySeparator(previous: Date | null, current: Date): boolean {
  return previous === null || !sameDay(previous, current);
}

/** "14:05" or "2:05 PM", as the locale writes a time of day. */
export function timeOfDay(d: Date, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { hour: "numeric", minute: "2-digit" }).format(d);
}

/**
 * The time beside a room in the list: the time today, "Yesterday", the short
 * weekday within a week, else a short date.
 */
export function shortWhen(d: Date, now: Date, locale?: string): string {
  const ago = daysBetween(d, now);
  if (ago <= 0) return timeOfDay(d, locale);
  if (ago === 1) return "Yesterday";
  if (ago < 7) return new Intl.DateTimeFormat(locale, { weekday: "short" }).format(d);
  const opts: Intl.DateTimeFormatOptions =
    d.getFullYear() === now.getFullYear()
      ? { day: "numeric", month: "short" }
      : { day: "numeric", month: "short", year: "numeric" };
  return new Intl.DateTimeFormat(locale, opts).format(d);
}

/**
 * "last seen just now", "last seen 5 min ago", "last seen 3 h ago", "last seen
 * yesterday at 9:15", else "last seen on 3 March".
 */
export function lastSeenLabel(lastSeen: Date, now: Date, locale?: string): string {
  const ms = now.getTime() - lastSeen.getTime();
  if (ms < MINUTE) return "last seen just now";
  if (ms < HOUR) return `last seen ${Math.floor(ms / MINUTE)} min ago`;
  const ago = daysBetween(lastSeen, now);
  if (ago === 0) return `last seen ${Math.floor(ms / HOUR)} h ago`;
  if (ago === 1) return `last seen yesterday at ${timeOfDay(lastSeen, locale)}`;
  const opts: Intl.DateTimeFormatOptions =
    lastSeen.getFullYear() === now.getFullYear()
      ? { day: "numeric", month: "long" }
      : { day: "numeric", month: "long", year: "numeric" };
  return `last seen on ${new Intl.DateTimeFormat(locale, opts).format(lastSeen)}`;
}

/**
 * What a direct room's header and list row say about the other person:
 * "online", "last seen …", or "offline" when nothing better is known.
 */
export function presenceLabel(
  status: string | null,
  lastSeen: string | null,
  now: Date,
  locale?: string,
): string {
  if (status === "online") return "online";
  const seen = parseTime(lastSeen);
  if (seen) return lastSeenLabel(seen, now, locale);
  return status === null ? "" : "offline";
}
