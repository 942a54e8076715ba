// The app's keyboard shortcuts, and what of the webview's own behaviour an
// app should not have (its context menu on plain UI, reload and print keys).
// Ctrl on Linux and Windows is Cmd on macOS.

import type { RoomView } from "../types";
import { roomTitle, sortRooms } from "./rooms";
import { fold } from "./search";

/** Whether this is a Mac (Cmd is the command key). */
export const IS_MAC = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

/** What an app-wide key press does. */
export type Shortcut =
  /** Ctrl/Cmd+K: jump to a chat or a person. */
  | "switcher"
  /** Ctrl/Cmd+F: search messages. */
  | "search"
  /** Alt+Up / Alt+Down: the chat above or below in the list. */
  | "prev-room"
  | "next-room"
  /** Ctrl/Cmd+/ or F1: the list of shortcuts. */
  | "help"
  /** A browser key that makes no sense in an app (reload, print, view source): nothing. */
  | "blocked";

/** The keys of a key press that shortcuts look at. */
export interface KeyPress {
  key: string;
  /** The physical key ("KeyK"), so letters work on any keyboard layout. */
  code?: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
}

/** The shortcut a key press is, if any (`mac`: Cmd is the command key). */
export function shortcutOf(e: KeyPress, mac: boolean): Shortcut | null {
  const cmd = mac ? e.metaKey && !e.ctrlKey : e.ctrlKey && !e.metaKey;
  // Letters by their physical key (Ctrl+K is Ctrl+K on a Cyrillic layout
  // too); "/" by its character, wherever a layout puts it.
  const letter = /^Key[A-Z]$/.exec(e.code ?? "") ? (e.code as string).slice(3).toLowerCase() : null;
  const key = letter ?? (e.key.length === 1 ? e.key.toLowerCase() : e.key);
  // "/" may need Shift (German, French layouts): Shift does not matter for it.
  if (cmd && !e.altKey && key === "/") return "help";
  if (cmd && !e.altKey && !e.shiftKey) {
    if (key === "k") return "switcher";
    if (key === "f") return "search";
    if (key === "r" || key === "p" || key === "u" || key === "s" || key === "g") return "blocked";
  }
  if (cmd && e.shiftKey && !e.altKey && (key === "r" || key === "g")) return "blocked";
  if (!cmd && !e.ctrlKey && !e.metaKey && e.altKey && !e.shiftKey) {
    if (key === "ArrowUp") return "prev-room";
    if (key === "ArrowDown") return "next-room";
  }
  if (!e.ctrlKey && !e.metaKey && !e.altKey) {
    if (key === "F1") return "help";
    if (key === "F5" || key === "F3" || key === "F7" || key === "F12") return "blocked";
  }
  return null;
}

/**
 * Whether a right-click keeps the webview's own menu: in a text field (to
 * paste, or fix a spelling) or on selected text (to copy). Everywhere else
 * the app shows its own menu or none (never "Reload" or "Inspect").
 */
export function nativeMenuAllowed(target: Element | null, selectedText: string): boolean {
  if (selectedText.trim() !== "") return true;
  const field = target?.closest("input, textarea, [contenteditable=''], [contenteditable='true']");
  if (!field) return false;
  if (field instanceof HTMLInputElement) return !["button", "checkbox", "radio", "submit", "file", "range", "color"].includes(field.type);
  return true;
}

/** One match of the quick switcher: a chat, by its title. */
export interface RoomMatch {
  room: RoomView;
  title: string;
}

/**
 * The chats whose title matches `query` (case and accents aside): the one
 * named exactly that first, then titles that start with it, then those with
 * a word that does, then the rest that contain it, each in the room list's
 * order (latest first).
 * An empty query lists every chat.
 */
export function matchRooms(rooms: readonly RoomView[], myUserId: string, query: string): RoomMatch[] {
  const q = fold(query.trim());
  const ranked: { m: RoomMatch; rank: number; order: number }[] = [];
  sortRooms(rooms, myUserId).forEach((room, order) => {
    const title = roomTitle(room, myUserId);
    const t = fold(title);
    const rank = q === "" ? 1 : t === q ? 0 : t.startsWith(q) ? 1 : t.split(/[\s\-_.@]+/).some((w) => w.startsWith(q)) ? 2 : t.includes(q) ? 3 : -1;
    if (rank >= 0) ranked.push({ m: { room, title }, rank, order });
  });
  ranked.sort((a, b) => a.rank - b.rank || a.order - b.order);
  return ranked.map((r) => r.m);
}

/** The room after (`step` 1) or before (-1) `current` in the list's order, wrapping; null if none. */
export function neighbourRoom(rooms: readonly RoomView[], myUserId: string, current: string | null, step: 1 | -1): string | null {
  const order = sortRooms(rooms, myUserId);
  if (order.length === 0) return null;
  const at = order.findIndex((r) => r.roomId === current);
  if (at < 0) return (step === 1 ? order[0] : order[order.length - 1])?.roomId ?? null;
  return order[(at + step + order.length) % order.length]?.roomId ?? null;
}
