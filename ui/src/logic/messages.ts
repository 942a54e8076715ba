//! A room's message list as the UI holds it: ordered by seq, with pending
//! messages (no seq yet) last in the order they were written, and every
//! message keyed by its stable `localId` so that a `message_upserted` event
//! replaces the message in place instead of adding a second copy.

import type { MessageView, RoomView } from "../types";

/**
 * Orders messages for display: by seq; messages without a seq (still in the
 * outbox) after all others, by `localId`, which grows as they are written.
 */
export function compareMessages(a: MessageView, b: MessageView): number {
  if (a.seq !== null && b.seq !== null) {
    return a.seq - b.seq || a.localId - b.localId;
  }
  if (a.seq !== null) return -1;
  if (b.seq !== null) return 1;
  return a.localId - b.localId;
}

/** Where a message sits in a list: its `localId`, else its server id or tempId. */
export function findMessage(list: readonly MessageView[], msg: MessageView): number {
  const byLocal = list.findIndex((m) => m.localId === msg.localId);
  if (byLocal >= 0) return byLocal;
  // A copy that came by another path (a re-read page, say) may carry another
  // local id for the same server message; never show it twice.
  if (msg.messageId !== null) {
    const byServer = list.findIndex((m) => m.messageId === msg.messageId);
    if (byServer >= 0) return byServer;
  }
  if (msg.tempId !== null) {
    return list.findIndex((m) => m.tempId === msg.tempId && m.senderId === msg.senderId);
  }
  return -1;
}

/** The index at which `msg` belongs in a sorted list (after equal ones). */
export function insertionIndex(list: readonly MessageView[], msg: MessageView): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareMessages(list[mid] as MessageView, msg) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** What an upsert did, so a view can touch only the rows that changed. */
export interface Upserted {
  /** The new list (the input is never changed). */
  list: MessageView[];
  /** Where the message was before, or -1 if it is new. */
  from: number;
  /** Where it is now. */
  to: number;
}

/**
 * Puts `msg` into a sorted list: replaces the copy with the same key, moving
 * it only if its place changed (a pending message that got its seq). The
 * newest copy wins: the caller applies changes in the order they happened
 * (the client core's events, see `state/store.ts`).
 */
export function upsertMessage(list: readonly MessageView[], msg: MessageView): Upserted {
  const from = findMessage(list, msg);
  const next = list.slice();
  if (from >= 0) {
    const prev = list[from - 1];
    const after = list[from + 1];
    const fits =
      (prev === undefined || compareMessages(prev, msg) <= 0) &&
      (after === undefined || compareMessages(msg, after) <= 0);
    if (fits) {
      next[from] = msg;
      return { list: next, from, to: from };
    }
    next.splice(from, 1);
  }
  const to = insertionIndex(next, msg);
  next.splice(to, 0, msg);
  return { list: next, from, to };
}

/** Puts many messages (a page read from the store) into a sorted list. */
export function mergeMessages(
  list: readonly MessageView[],
  incoming: readonly MessageView[],
): MessageView[] {
  let out = list.slice();
  for (const msg of incoming) out = upsertMessage(out, msg).list;
  return out;
}

/** What a removal did: the new list and where the message was (-1: absent). */
export interface Removed {
  list: MessageView[];
  at: number;
}

/** Drops the message with this `localId` (a withdrawn pending message). */
export function removeMessage(list: readonly MessageView[], localId: number): Removed {
  const at = list.findIndex((m) => m.localId === localId);
  if (at < 0) return { list: list.slice(), at };
  const next = list.slice();
  next.splice(at, 1);
  return { list: next, at };
}

/**
 * The key the shell takes for `edit_message` / `delete_message`: the server id
 * once known, else the tempId, else the local id.
 */
export function messageKey(msg: MessageView): string {
  return msg.messageId ?? msg.tempId ?? String(msg.localId);
}

/** The highest seq in the list (what `mark_read` should be told), or null. */
export function newestSeq(list: readonly MessageView[]): number | null {
  for (let i = list.length - 1; i >= 0; i--) {
    const seq = (list[i] as MessageView).seq;
    if (seq !== null) return seq;
  }
  return null;
}

/** The lowest seq in the list (where older history starts), or null. */
export function oldestSeq(list: readonly MessageView[]): number | null {
  for (const m of list) if (m.seq !== null) return m.seq;
  return null;
}

/** Whether the user may edit or delete this message. */
export function canModify(msg: MessageView, myUserId: string): boolean {
  return msg.senderId === myUserId && msg.deletedAt === null && msg.type !== "system";
}

/** Whether `me` may pin in `room`: either member of a direct room, a group's owner or admins. */
export function canPin(room: RoomView | undefined, me: string): boolean {
  if (!room) return false;
  if (room.type === "direct") return true;
  const role = room.members.find((m) => m.userId === me)?.role;
  return role === "owner" || role === "admin";
}
