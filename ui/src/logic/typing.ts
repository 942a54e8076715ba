// Who is typing in which room, and the line that says so. The server says
// "started" once and "stopped" when the typist stops, sends, leaves, or goes
// 5 s without renewing, so a typist normally lasts until their "stopped". A
// "stopped" can still be lost with the user's own connection: the app clears
// everyone then, and a generous expiry catches anything else.

/** How long a "started typing" holds if no "stopped" ever comes. */
export const TYPING_TTL_MS = 60_000;

/** "Bob is typing…", "Bob and Carol are typing…", "3 people are typing…", or "". */
export function typingLabel(names: readonly string[]): string {
  const [first, second] = names;
  if (first === undefined) return "";
  if (second === undefined) return `${first} is typing…`;
  if (names.length === 2) return `${first} and ${second} are typing…`;
  return `${names.length} people are typing…`;
}

interface Typist {
  name: string;
  until: number;
}

/** Typists per room, in the order they started, each expiring on its own. */
export class TypingTracker {
  private readonly rooms = new Map<string, Map<string, Typist>>();

  constructor(private readonly ttlMs = TYPING_TTL_MS) {}

  /** Applies a `typing` event; returns whether the room's typists changed. */
  update(roomId: string, userId: string, name: string, typing: boolean, now: number): boolean {
    let room = this.rooms.get(roomId);
    if (!typing) {
      const had = room?.delete(userId) ?? false;
      if (room && room.size === 0) this.rooms.delete(roomId);
      return had;
    }
    if (!room) {
      room = new Map();
      this.rooms.set(roomId, room);
    }
    const known = room.get(userId);
    room.set(userId, { name: name || known?.name || "Someone", until: now + this.ttlMs });
    return known === undefined || known.name !== name;
  }

  /** Drops typists whose time ran out; returns the rooms that changed. */
  expire(now: number): string[] {
    const changed: string[] = [];
    for (const [roomId, room] of this.rooms) {
      let any = false;
      for (const [userId, t] of room) {
        if (t.until <= now) {
          room.delete(userId);
          any = true;
        }
      }
      if (any) changed.push(roomId);
      if (room.size === 0) this.rooms.delete(roomId);
    }
    return changed;
  }

  /** Forgets a room's typists (the room was left, or a typist's message arrived). */
  clear(roomId: string, userId?: string): boolean {
    const room = this.rooms.get(roomId);
    if (!room) return false;
    if (userId === undefined) return this.rooms.delete(roomId);
    const had = room.delete(userId);
    if (room.size === 0) this.rooms.delete(roomId);
    return had;
  }

  /** Forgets every typist (the connection dropped: their "stopped" may be lost). */
  clearAll(): string[] {
    const rooms = [...this.rooms.keys()];
    this.rooms.clear();
    return rooms;
  }

  /** The names typing in a room, in the order they started. */
  names(roomId: string): string[] {
    return [...(this.rooms.get(roomId)?.values() ?? [])].map((t) => t.name);
  }

  /** Whether anyone is typing anywhere (so a timer needs to run). */
  get active(): boolean {
    return this.rooms.size > 0;
  }
}
