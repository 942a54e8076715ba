// The emoji picker: emoji-picker-element (a maintained, accessible web
// component with search, categories, skin tones and recently used emoji),
// loaded the first time it is needed and fed from emoji data bundled with
// the app (never from a CDN: the app works offline and asks no third party).
// It opens as a popover beside what opened it; a pick, Escape or a click
// outside closes it, and focus goes back where it was.

import dataUrl from "emoji-picker-element-data/en/emojibase/data.json?url";
import { h } from "./dom";

let closeOpen: (() => void) | null = null;

/** Whether the emoji picker is open (for tests and the keyboard). */
export function pickerOpen(): boolean {
  return closeOpen !== null;
}

/** Opens the emoji picker beside `anchor`; `onPick` gets the emoji chosen. */
export async function openEmojiPicker(anchor: HTMLElement, label: string, onPick: (emoji: string) => void): Promise<void> {
  closeOpen?.();
  const returnTo = (document.activeElement as HTMLElement | null) ?? anchor;
  await import("emoji-picker-element");
  const picker = document.createElement("emoji-picker");
  picker.dataSource = dataUrl;
  picker.setAttribute("aria-label", label);
  const pop = h("div", { class: "emoji-popover", role: "dialog", "aria-label": label }, picker);
  const close = (): void => {
    pop.remove();
    document.removeEventListener("pointerdown", outside, true);
    document.removeEventListener("keydown", onKey, true);
    window.removeEventListener("resize", close);
    if (closeOpen === close) closeOpen = null;
  };
  const outside = (e: PointerEvent): void => {
    if (!pop.contains(e.target as Node)) close();
  };
  const onKey = (e: KeyboardEvent): void => {
    if (e.key !== "Escape") return;
    e.preventDefault();
    e.stopPropagation();
    close();
    returnTo.focus();
  };
  picker.addEventListener("emoji-click", (e) => {
    const emoji = e.detail.unicode;
    close();
    returnTo.focus();
    if (emoji) onPick(emoji);
  });
  closeOpen = close;
  document.body.appendChild(pop);
  place(pop, anchor);
  document.addEventListener("pointerdown", outside, true);
  document.addEventListener("keydown", onKey, true);
  window.addEventListener("resize", close);
  // The search box first, as people type the emoji's name.
  requestAnimationFrame(() => picker.shadowRoot?.querySelector<HTMLInputElement>("input[type=search]")?.focus());
}

/** Puts the popover above or below the anchor, inside the window. */
function place(pop: HTMLElement, anchor: HTMLElement): void {
  const r = anchor.getBoundingClientRect();
  const w = pop.offsetWidth || 340;
  const hgt = pop.offsetHeight || 400;
  pop.style.left = `${Math.max(8, Math.min(r.left, window.innerWidth - w - 8))}px`;
  pop.style.top = `${r.top - hgt - 6 >= 8 ? r.top - hgt - 6 : Math.min(r.bottom + 6, window.innerHeight - hgt - 8)}px`;
}
