// Unsent text per room, kept across restarts: in memory while the app runs,
// written to localStorage (per account) a moment after it changes and when
// the window goes away. A blank draft is no draft.

/** How long after the last change a draft is written. */
const SAVE_DELAY_MS = 500;
/** Drafts longer than this are cut (the server takes 4000 characters anyway). */
const MAX_DRAFT = 8000;

/** The drafts of one account. */
export class Drafts {
  private readonly map = new Map<string, string>();
  private timer = 0;

  /** `key`: where in `storage` this account's drafts live. */
  constructor(
    private readonly key: string,
    private readonly storage: Pick<Storage, "getItem" | "setItem" | "removeItem"> = localStorage,
  ) {
    try {
      const saved: unknown = JSON.parse(storage.getItem(key) ?? "{}");
      if (saved && typeof saved === "object") {
        for (const [room, text] of Object.entries(saved)) if (typeof text === "string" && text.trim()) this.map.set(room, text);
      }
    } catch {
      // An unreadable copy is no drafts.
    }
  }

  /** The draft of a room, if any. */
  get(roomId: string): string | undefined {
    return this.map.get(roomId);
  }

  /** Keeps a room's draft (a blank one removes it). */
  set(roomId: string, text: string): void {
    if (text.trim() === "") this.map.delete(roomId);
    else this.map.set(roomId, text.slice(0, MAX_DRAFT));
    this.schedule();
  }

  /** Removes a room's draft (it was sent). */
  delete(roomId: string): void {
    if (this.map.delete(roomId)) this.schedule();
  }

  /** Writes now what is waiting to be written. */
  flush(): void {
    window.clearTimeout(this.timer);
    this.timer = 0;
    try {
      if (this.map.size === 0) this.storage.removeItem(this.key);
      else this.storage.setItem(this.key, JSON.stringify(Object.fromEntries(this.map)));
    } catch {
      // Storage full or gone: the drafts stay in memory for this run.
    }
  }

  /** Forgets every draft, here and in storage (signing out). */
  clear(): void {
    this.map.clear();
    this.flush();
  }

  private schedule(): void {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.flush(), SAVE_DELAY_MS);
  }
}

/** Where an account's drafts are kept. */
export function draftsKey(server: string, userId: string): string {
  return `leetchat.drafts.${server}.${userId}`;
}
