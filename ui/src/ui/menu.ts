// A small popup menu (a message's actions): opened by click, right-click
// or keyboard, moved through with the arrow keys, closed with Escape, a click
// outside, or a choice, after which focus returns where it came from.

import { h, overlayHost } from "./dom";

/** One entry of a menu. */
export interface MenuItem {
  label: string;
  danger?: boolean;
  /** A choice among several: shown ticked when true (a radio item). */
  checked?: boolean;
  /** A line above it, starting a group. */
  separated?: boolean;
  run(): void;
}

let closeOpen: (() => void) | null = null;

/** Opens a menu beside `anchor` (or at `at`, a right-click's point), closing any other open one. */
export function openMenu(anchor: HTMLElement, items: MenuItem[], label: string, at?: { x: number; y: number }): void {
  closeOpen?.();
  const returnTo = (document.activeElement as HTMLElement | null) ?? anchor;
  const buttons = items.map((item) =>
    h(
      "button",
      {
        type: "button",
        role: item.checked === undefined ? "menuitem" : "menuitemradio",
        "aria-checked": item.checked === undefined ? undefined : String(item.checked),
        tabindex: "-1",
        class: [item.danger ? "danger" : "", item.checked ? "checked" : "", item.separated ? "separated" : ""].filter(Boolean).join(" "),
        onclick: () => {
          close();
          item.run();
        },
      },
      item.label,
    ),
  );
  const menu = h("div", { class: "menu", role: "menu", "aria-label": label }, ...buttons);
  const move = (delta: number): void => {
    const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const next = buttons[(i + delta + buttons.length) % buttons.length];
    next?.focus();
  };
  menu.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") move(1);
    else if (e.key === "ArrowUp") move(-1);
    else if (e.key === "Home") buttons[0]?.focus();
    else if (e.key === "End") buttons[buttons.length - 1]?.focus();
    else if (e.key === "Escape" || e.key === "Tab") {
      close();
      returnTo.focus();
    } else return;
    e.preventDefault();
    e.stopPropagation();
  });
  const outside = (e: PointerEvent): void => {
    if (!menu.contains(e.target as Node)) close();
  };
  function close(): void {
    menu.remove();
    document.removeEventListener("pointerdown", outside, true);
    window.removeEventListener("resize", close);
    anchor.setAttribute("aria-expanded", "false");
    if (closeOpen === close) closeOpen = null;
  }
  closeOpen = close;
  // A menu opened from inside a dialog (a member's actions) goes in it.
  overlayHost().appendChild(menu);
  const r = at ? new DOMRect(at.x, at.y, 0, 0) : anchor.getBoundingClientRect();
  const w = menu.offsetWidth;
  const hgt = menu.offsetHeight;
  const left = at ? at.x : r.right - w;
  menu.style.left = `${Math.max(8, Math.min(left, window.innerWidth - w - 8))}px`;
  menu.style.top = `${r.bottom + hgt + 8 > window.innerHeight ? Math.max(8, r.top - hgt - 4) : r.bottom + 4}px`;
  anchor.setAttribute("aria-expanded", "true");
  document.addEventListener("pointerdown", outside, true);
  window.addEventListener("resize", close);
  buttons[0]?.focus();
}
