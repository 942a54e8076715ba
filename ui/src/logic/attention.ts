// Getting the user back to the chat: the unread total the shell shows on the
// window (title "(3) LeetChat", and the dock/taskbar badge where there is
// one), and opening the room of a clicked notification even when the room
// list has not heard of that room yet.

import type { RoomView } from "../types";

/** Unread messages over every room. */
export function totalUnread(rooms: Iterable<RoomView>): number {
  let total = 0;
  for (const r of rooms) total += Math.max(0, r.unreadCount);
  return total;
}

/**
 * Tells the shell the unread total when it changes (not on every render).
 * A failed call is tried again with the next change or `retry`.
 */
export class UnreadBadge {
  private shown: number | null = null;
  private sending: number | null = null;

  constructor(private readonly send: (count: number) => Promise<void>) {}

  /** The total to show; resolves once the shell has it (or failed to take it). */
  async set(count: number): Promise<void> {
    if (count === this.shown || count === this.sending) return;
    this.sending = count;
    try {
      await this.send(count);
      if (this.sending === count) this.shown = count;
    } catch {
      if (this.shown === count) this.shown = null;
    } finally {
      if (this.sending === count) this.sending = null;
    }
  }

  /** What the shell shows now (null: nothing confirmed yet). */
  get current(): number | null {
    return this.shown;
  }
}

/**
 * Rooms asked to open (a clicked notification) before the room list knows
 * them: a message can arrive, and be notified, just before its room does.
 * The newest request wins; it is given up after `ttlMs`.
 */
export class PendingOpen {
  private roomId: string | null = null;
  private until = 0;

  constructor(private readonly ttlMs = 10_000) {}

  /** Asks for `roomId`; returns it when it can open now (`known`), else keeps it. */
  request(roomId: string, known: boolean, now: number): string | null {
    if (known) {
      this.roomId = null;
      return roomId;
    }
    this.roomId = roomId;
    this.until = now + this.ttlMs;
    return null;
  }

  /** A room became known: the room to open now, if it was the one asked for. */
  arrived(roomId: string, now: number): string | null {
    if (this.roomId !== roomId) return null;
    this.roomId = null;
    return now <= this.until ? roomId : null;
  }
}
