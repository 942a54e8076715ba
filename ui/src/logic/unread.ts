// The unread badge on a room: nothing at zero, the count up to 99, then "99+"
// so the badge keeps its size.

/** The most a badge spells out before it says "99+". */
export const BADGE_MAX = 99;

/** The badge text for `count` unread messages, or "" for no badge. */
export function unreadBadge(count: number): string {
  if (!Number.isFinite(count) || count <= 0) return "";
  return count > BADGE_MAX ? `${BADGE_MAX}+` : String(Math.floor(count));
}

/** What a screen reader hears for the badge. */
export function unreadLabel(count: number): string {
  if (count <= 0) return "";
  return count === 1 ? "1 unread message" : `${count} unread messages`;
}
