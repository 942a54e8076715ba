// What the notification settings of a room mean, in words, and the choices
// the menus offer (protocol 9.5; the server keeps them, every device agrees).

import type { NotifyLevel, RoomView } from "../types";

/** "Until I unmute": the furthest time RFC 3339 with four-digit years can say. */
export const FOREVER = "9999-12-31T23:59:59.999Z";

/** The levels, as menus name them. */
export const LEVELS: readonly { level: NotifyLevel; label: string }[] = [
  { level: "all", label: "All messages" },
  { level: "mentions", label: "Mentions only" },
  { level: "none", label: "Nothing" },
];

/** The mutes a menu offers: label and length (ms; null: until unmuted). */
export const MUTES: readonly { label: string; ms: number | null }[] = [
  { label: "Mute for 1 hour", ms: 3_600_000 },
  { label: "Mute for 8 hours", ms: 8 * 3_600_000 },
  { label: "Mute for 1 week", ms: 7 * 24 * 3_600_000 },
  { label: "Mute until I unmute", ms: null },
];

/** The name of a level. */
export function levelLabel(level: NotifyLevel): string {
  return LEVELS.find((l) => l.level === level)?.label ?? level;
}

/** Whether the room is muted at `now` (ms). */
export function isMuted(room: Pick<RoomView, "muteUntil">, now: number): boolean {
  if (!room.muteUntil) return false;
  const t = Date.parse(room.muteUntil);
  return Number.isNaN(t) || t > now;
}

/** When a mute of `ms` from `now` ends, as the server takes it. */
export function muteUntil(ms: number | null, now: number): string {
  return ms === null ? FOREVER : new Date(now + ms).toISOString();
}

/** "Mentions only (default), muted until 14:05" and the like. */
export function notifySummary(room: Pick<RoomView, "notifyLevel" | "notifyFollowsDefault" | "muteUntil">, now: number): string {
  let s = levelLabel(room.notifyLevel);
  if (room.notifyFollowsDefault) s += " (default)";
  if (isMuted(room, now)) {
    const until = room.muteUntil as string;
    if (until >= "9999") s += ", muted";
    else {
      const d = new Date(until);
      const sameDay = d.toDateString() === new Date(now).toDateString();
      const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      s += sameDay ? `, muted until ${time}` : `, muted until ${d.toLocaleDateString([], { weekday: "short", day: "numeric", month: "short" })} ${time}`;
    }
  }
  return s;
}

/** Whether the room stays quiet for plain messages (muted, or set to mentions or nothing). */
export function isQuiet(room: Pick<RoomView, "notifyLevel" | "muteUntil">, now: number): boolean {
  return isMuted(room, now) || room.notifyLevel !== "all";
}
