// The side pane: who is signed in, the New chat / New group / Join a group /
// notifications / Settings buttons (signing out is in Settings), the chat
// filter, the room list, and messages found by the filter.

import { h } from "./dom";
import { icon } from "./icons";
import type { RoomList } from "./roomlist";
import type { SearchResults } from "./searchresults";

/** What the side pane's controls do. */
export interface SidebarActions {
  onNewChat(): void;
  onNewGroup(): void;
  /** "Join a group": paste an invite link. */
  onJoinGroup(): void;
  /** The settings screen (profile, blocked people, devices, your data, sign out). */
  onSettings(): void;
  /** The default notification level's menu, beside `anchor`. */
  onDefaultNotifyMenu(anchor: HTMLElement): void;
  /** The filter text changed (already trimmed and lower-cased). */
  onFilter(text: string): void;
  /** The search text changed (trimmed, as typed): search messages too. */
  onSearch(text: string): void;
  /** The search was limited to one chat (Ctrl+F in it): search everywhere again. */
  onClearScope(): void;
}

const EVERYWHERE = "Search chats and messages";

/** Shows the chat a search is limited to (`title`), or none. */
export function setSearchScope(side: HTMLElement, title: string | null): void {
  const chip = side.querySelector<HTMLButtonElement>(".search-scope");
  const box = side.querySelector<HTMLInputElement>(".room-filter");
  if (!chip || !box) return;
  chip.hidden = title === null;
  if (title !== null) {
    chip.replaceChildren(`In ${title}`, icon("close", 14));
    chip.setAttribute("aria-label", `Searching in ${title}. Search everywhere instead`);
  }
  box.placeholder = title === null ? EVERYWHERE : "Search this chat";
  box.setAttribute("aria-label", title === null ? EVERYWHERE : `Search messages in ${title}`);
}

/** Builds the side pane around a room list. */
export function sidebar(
  userName: string,
  server: string,
  rooms: RoomList,
  results: SearchResults,
  actions: SidebarActions,
): HTMLElement {
  const button = (label: string, glyph: SVGSVGElement, run: () => void): HTMLButtonElement =>
    h("button", { type: "button", class: "icon", "aria-label": label, title: label, onclick: run }, glyph);
  const defaults: HTMLButtonElement = h(
    "button",
    {
      type: "button",
      class: "icon",
      "aria-label": "Default notifications",
      title: "Default notifications",
      "aria-haspopup": "menu",
      onclick: () => actions.onDefaultNotifyMenu(defaults),
    },
    icon("bell"),
  );
  const filter = h("input", {
    type: "search",
    class: "input room-filter",
    placeholder: EVERYWHERE,
    "aria-label": EVERYWHERE,
    oninput: () => {
      actions.onFilter(filter.value.trim().toLowerCase());
      actions.onSearch(filter.value.trim());
    },
    onkeydown: (e: KeyboardEvent) => {
      if (e.key === "Backspace" && filter.value === "" && !scope.hidden) actions.onClearScope();
    },
  });
  const scope = h("button", { type: "button", class: "search-scope", hidden: true, onclick: () => actions.onClearScope() });
  return h(
    "nav",
    { class: "sidebar", "aria-label": "Chats" },
    h(
      "header",
      { class: "side-header" },
      h("div", { class: "me" }, h("h1", { class: "app-name" }, "LeetChat"), h("span", { class: "muted", title: server }, `@${userName}`)),
      button("New chat", icon("compose"), actions.onNewChat),
      button("New group", icon("group"), actions.onNewGroup),
      button("Join a group", icon("link"), actions.onJoinGroup),
      defaults,
      button("Settings", icon("settings"), actions.onSettings),
    ),
    h("div", { class: "search-box" }, scope, filter),
    h("div", { class: "side-scroll" }, rooms.el, rooms.emptyNotice, results.el),
  );
}
